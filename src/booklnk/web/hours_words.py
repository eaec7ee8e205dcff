"""The owner's hours settings: weekly hours and breaks, a staff member's own week, special dates and time off:
their words, Arabic first; `words.WORDS` merges them."""

from __future__ import annotations

HOURS_WORDS: dict[str, dict[str, str]] = {
    "ar": {},
    "en": {},
}
