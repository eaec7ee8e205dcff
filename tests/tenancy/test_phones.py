"""Mobile numbers: one number, however it is written, is one E.164 string; what cannot
take a code is refused with the reason."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booklnk.tenancy.phones import InvalidPhone, normalise

# Egypt's mobile prefixes: Vodafone 010, Etisalat 011, Orange 012, WE 015.
_EGYPTIAN_MOBILES = st.tuples(
    st.sampled_from(["10", "11", "12", "15"]), st.text("0123456789", min_size=8, max_size=8)
)
_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@given(_EGYPTIAN_MOBILES, st.sampled_from(["national", "international", "spaced", "arabic", "dashed"]))
def test_an_egyptian_mobile_is_the_same_number_however_it_is_written(
    number: tuple[str, str], style: str
) -> None:
    prefix, rest = number
    written = {
        "national": f"0{prefix}{rest}",
        "international": f"+20{prefix}{rest}",
        "spaced": f"+20 {prefix} {rest[:4]} {rest[4:]}",
        "arabic": f"0{prefix}{rest}".translate(_ARABIC_INDIC),
        "dashed": f"0{prefix}-{rest[:4]}-{rest[4:]}",
    }[style]
    assert normalise(written) == f"+20{prefix}{rest}"


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("0223456789", "mobile"),  # a Cairo landline cannot take an SMS
        ("01234", "valid"),
        ("hello", "not a phone number"),
        ("+20" + "1" * 40, "at most"),
    ],
)
def test_what_cannot_take_a_code_is_refused_with_the_reason(written: str, reason: str) -> None:
    with pytest.raises(InvalidPhone, match=reason):
        normalise(written)


def test_numbers_abroad_are_kept_in_e164() -> None:
    assert normalise("+44 7911 123456") == "+447911123456"
