"""How many SMS a text costs (pure): GSM-7 or UCS-2, 160/153 and 70/67, extension characters
counted twice, and no character split across two parts."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booklnk.notifications.sms import GSM7_BASIC, GSM7_EXTENSION, Segments, segments

BASIC = sorted(GSM7_BASIC)
EXTENSION = sorted(GSM7_EXTENSION)
ARABIC = st.characters(min_codepoint=0x0621, max_codepoint=0x064A)
EMOJI = "\U0001f600"  # one Python character, two UTF-16 code units


def expected_parts(units: int, single: int, part: int) -> int:
    """For text of width-1 characters only."""
    if units == 0:
        return 0
    return 1 if units <= single else math.ceil(units / part)


def test_the_basic_and_extension_tables_are_the_3gpp_ones() -> None:
    assert len(GSM7_BASIC) == 127  # 128 codes, less the escape
    assert set("\f^{}\\[~]|€") == GSM7_EXTENSION
    assert not GSM7_BASIC & GSM7_EXTENSION
    for outside in "`ÀâçÁ\t\x1b":
        assert outside not in GSM7_BASIC
        assert outside not in GSM7_EXTENSION


def test_empty_text_is_no_segment() -> None:
    assert segments("") == Segments("gsm7", 0, 0)


@pytest.mark.parametrize(
    ("length", "count"), [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (153 * 7, 7), (153 * 7 + 1, 8)]
)
def test_gsm7_boundaries(length: int, count: int) -> None:
    assert segments("a" * length) == Segments("gsm7", length, count)


@pytest.mark.parametrize(("length", "count"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (67 * 5, 5)])
def test_ucs2_boundaries(length: int, count: int) -> None:
    assert segments("ب" * length) == Segments("ucs2", length, count)


@given(st.text(alphabet=BASIC, max_size=1200))
def test_gsm7_text_of_n_septets(text: str) -> None:
    assert segments(text) == Segments("gsm7", len(text), expected_parts(len(text), 160, 153))


@given(st.text(alphabet=BASIC, max_size=400), ARABIC, st.integers(min_value=0, max_value=400))
def test_one_arabic_character_makes_the_whole_message_ucs2(text: str, arabic: str, at: int) -> None:
    mixed = text[:at] + arabic + text[at:]
    assert segments(mixed) == Segments("ucs2", len(mixed), expected_parts(len(mixed), 70, 67))


@given(st.text(alphabet=BASIC, max_size=300), st.text(alphabet=EXTENSION, max_size=100))
def test_extension_characters_count_two_septets(basic: str, extended: str) -> None:
    found = segments(basic + extended)
    assert found.encoding == "gsm7"
    assert found.characters == len(basic) + 2 * len(extended)


def test_an_extension_character_at_160_does_not_fit_one_segment() -> None:
    assert segments("a" * 158 + "€") == Segments("gsm7", 160, 1)
    assert segments("a" * 159 + "€") == Segments("gsm7", 161, 2)


def test_an_escape_never_straddles_a_part() -> None:
    # 152 septets, then a 2-septet character: it cannot take the 153rd septet alone.
    assert segments("a" * 152 + "€" + "a" * 10).count == 2
    text = "a" * 152 + "€" + "a" * 152
    assert segments(text).characters == 306  # 2 parts by arithmetic, 3 as sent
    assert segments(text).count == 3


@given(st.text(alphabet=[*BASIC, *EXTENSION], min_size=161, max_size=1200))
def test_gsm7_parts_never_split_an_escape(text: str) -> None:
    found = segments(text)
    # A part holds 153 septets, or 152 when the next character is an escape pair: never fewer.
    assert math.ceil(found.characters / 153) <= found.count <= math.ceil(found.characters / 152)


def test_surrogate_pairs_count_two_units_and_are_not_split() -> None:
    assert segments(EMOJI) == Segments("ucs2", 2, 1)
    assert segments(EMOJI * 35) == Segments("ucs2", 70, 1)
    assert segments("a" + EMOJI * 35) == Segments("ucs2", 71, 2)
    # 66 units, then a pair that would take the 67th unit and the next part's first.
    assert segments("ب" * 66 + EMOJI + "ب") == Segments("ucs2", 69, 1)  # fits one: no header, no split
    assert segments("ب" * 66 + EMOJI + "ب" * 66).characters == 134
    assert segments("ب" * 66 + EMOJI + "ب" * 66).count == 3


@given(st.text(min_size=0, max_size=300))
def test_any_text_is_one_encoding_with_consistent_counts(text: str) -> None:
    found = segments(text)
    assert (found.count == 0) == (text == "")
    single, part = (160, 153) if found.encoding == "gsm7" else (70, 67)
    if found.characters <= single:
        assert found.count == (1 if text else 0)
    else:
        assert found.count >= math.ceil(found.characters / part)
    if found.encoding == "ucs2":
        assert found.characters == len(text.encode("utf-16-le", "surrogatepass")) // 2
