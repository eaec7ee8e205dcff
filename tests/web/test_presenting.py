"""How pages say things (pure): the day strip, times as Egypt reads them, the
cancellation rule, the booking questions as form fields and their answers typed."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booklnk.kernel.errors import ValidationFailed
from booklnk.web import presenting
from booklnk.web.desk import typed_amount
from booklnk.web.desk_walk_in import minor_units
from booklnk.web.guard import local_path

SCHEMA = {
    "type": "object",
    "required": ["topic"],
    "properties": {
        "topic": {"type": "string", "title": "Topic", "title_ar": "الموضوع", "maxLength": 200},
        "people": {"type": "integer", "title": "People"},
        "first_visit": {"type": "boolean", "title": "First visit"},
        "level": {"type": "string", "enum": ["new", "regular"]},
    },
}


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2199, 1, 1)), st.integers(1, 30))
def test_the_day_strip_is_consecutive_days_from_today(today: date, days: int) -> None:
    strip = presenting.day_strip(today, "ar", days)
    assert [d.day.toordinal() for d in strip] == list(range(today.toordinal(), today.toordinal() + days))
    assert strip[0].label == "اليوم"


def test_times_read_as_egypt_reads_them() -> None:
    assert presenting.wall_clock(13 * 60 + 30, "ar") == "1:30 م"
    assert presenting.wall_clock(9 * 60, "en") == "9:00\u202fAM"
    assert presenting.wall_clock(24 * 60, "en") == "12:00\u202fAM"
    assert presenting.weekday_name(5, "ar") == "السبت"


def test_questions_are_labelled_in_the_readers_language() -> None:
    fields = {q.name: q for q in presenting.questions(SCHEMA, "ar")}
    assert fields["topic"].label == "الموضوع"
    assert fields["topic"].required
    assert fields["people"].kind == "number"
    assert fields["first_visit"].kind == "checkbox"
    assert fields["level"].kind == "select"
    assert fields["level"].options == ["new", "regular"]


def test_answers_take_the_schemas_types_and_leave_out_empty_optional_ones() -> None:
    posted = {"q_topic": "Growth", "q_people": "3", "q_first_visit": "on", "q_level": ""}
    assert presenting.answers(SCHEMA, posted) == {"topic": "Growth", "people": 3, "first_visit": True}
    # A number that is none stays text, for the schema to refuse by name.
    assert presenting.answers(SCHEMA, {"q_people": "three"})["people"] == "three"


@given(st.text(max_size=60))
def test_a_next_address_is_always_a_path_of_this_site(value: str) -> None:
    kept = local_path(value, "en")
    assert kept.startswith("/en/")
    assert not kept.startswith("//")
    assert "\\" not in kept


@given(st.integers(min_value=1, max_value=10**9))
def test_an_amount_the_desk_is_shown_reads_back_as_the_same_minor_units(minor: int) -> None:
    assert minor_units(typed_amount(minor, "EGP"), "EGP") == minor
    assert minor_units(typed_amount(minor, "KWD"), "KWD") == minor


def test_amounts_typed_in_arabic_digits_count_and_nonsense_is_refused() -> None:
    assert minor_units("\u0661\u0665\u0660", "EGP") == 15_000
    for typed in (
        "",
        "-5",
        "0",
        "0.00",
        "1.234",
        "abc",
        "NaN",
        "sNaN",
        "Infinity",
        "1e30",
        "1e-999999999",
        "150,5",
        "12345678901",
    ):
        with pytest.raises(ValidationFailed):
            minor_units(typed, "EGP")
