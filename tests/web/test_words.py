"""The web app's words: both languages say the same things, and every status, problem
and mismatch a page can show has its sentence in each."""

from __future__ import annotations

import string

from booklnk.api.problem_codes import CODES
from booklnk.booking.models import BookingStatus
from booklnk.payments.models import DeskMethod, LedgerKind, MismatchKind
from booklnk.web.words import FIELD_RULES, PARTS, PROBLEMS, WORDS


def test_arabic_and_english_have_the_same_words() -> None:
    assert set(WORDS["ar"]) == set(WORDS["en"])
    assert set(PROBLEMS["ar"]) == set(PROBLEMS["en"])
    assert set(FIELD_RULES["ar"]) == set(FIELD_RULES["en"])


def test_no_two_areas_define_the_same_word() -> None:
    for language in ("ar", "en"):
        assert sum(len(part[language]) for part in PARTS) == len(WORDS[language]), language


def test_every_status_mismatch_and_money_movement_is_worded() -> None:
    needed = {f"status_{s.value}" for s in BookingStatus}
    needed |= {f"mismatch_{k.value}" for k in MismatchKind} | {f"todo_{k.value}" for k in MismatchKind}
    needed |= {f"entry_{k.value}" for k in LedgerKind} | {m.value for m in DeskMethod}
    for language in ("ar", "en"):
        assert needed - set(WORDS[language]) == set(), language


def test_placeholders_match_across_languages() -> None:
    for key, english in WORDS["en"].items():
        assert sorted(_fields(english)) == sorted(_fields(WORDS["ar"][key])), key


def _fields(text: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def test_every_problem_the_api_can_answer_has_a_sentence_in_each_language() -> None:
    for language in ("ar", "en"):
        assert set(CODES) - set(PROBLEMS[language]) == set(), language
