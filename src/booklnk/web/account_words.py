"""A customer's account in the web app (signing up by phone, among others): its words,
Arabic first; `words.WORDS` merges them."""

from __future__ import annotations

ACCOUNT_WORDS: dict[str, dict[str, str]] = {
    "ar": {},
    "en": {},
}
