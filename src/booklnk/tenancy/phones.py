"""Mobile numbers as Booklnk keeps them: E.164 ("+201001234567"), parsed and checked by
`phonenumbers` (Google's libphonenumber metadata), Egyptian numbers first: "01001234567"
and "+20 100 123 4567" are the same number. Pure."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

# A number written without a country code is read as Egyptian.
HOME_REGION = "EG"
# Codes go by SMS or WhatsApp: a number that cannot receive them is refused up front.
_MOBILE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
# A bound on what is parsed at all (E.164 has at most 15 digits; people add spaces).
MAX_INPUT = 32


class InvalidPhone(ValueError):
    """Not a mobile number anyone can be reached on; the message says why."""


def normalise(raw: str) -> str:
    """The number in E.164, or InvalidPhone."""
    if len(raw) > MAX_INPUT:
        raise InvalidPhone(f"must be at most {MAX_INPUT} characters")
    try:
        number = phonenumbers.parse(raw, HOME_REGION)
    except NumberParseException:
        raise InvalidPhone("is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("is not a valid number (for an Egyptian mobile: 01xxxxxxxxx or +201xxxxxxxxx)")
    if phonenumbers.number_type(number) not in _MOBILE:
        raise InvalidPhone("must be a mobile number (codes are sent by SMS or WhatsApp)")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)
