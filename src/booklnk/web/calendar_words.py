"""The front desk's calendar: the day and the week, by staff member and by room, with breaks and time off:
their words, Arabic first; `words.WORDS` merges them."""

from __future__ import annotations

CALENDAR_WORDS: dict[str, dict[str, str]] = {
    "ar": {},
    "en": {},
}
