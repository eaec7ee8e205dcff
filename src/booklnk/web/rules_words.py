"""The owner's business rules, payment policy, notification settings and webhook endpoints:
their words, Arabic first; `words.WORDS` merges them."""

from __future__ import annotations

RULES_WORDS: dict[str, dict[str, str]] = {
    "ar": {},
    "en": {},
}
