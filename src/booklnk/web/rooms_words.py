"""The owner's rooms and chairs, and class series: their words, Arabic first; `words.WORDS` merges them."""

from __future__ import annotations

ROOMS_WORDS: dict[str, dict[str, str]] = {
    "ar": {},
    "en": {},
}
