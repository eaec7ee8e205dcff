"""The language a customer reads, from what their browser asks for (pure)."""

from __future__ import annotations

from collections.abc import Sequence

# An Accept-Language header is short; a longer one is cut, never parsed in full.
_MAX_HEADER = 500


def preferred_language(accept_language: str | None, supported: Sequence[str], default: str) -> str:
    """The supported language the `Accept-Language` header (RFC 9110 §12.5.4) weighs
    highest: `ar-EG,ar;q=0.9,en;q=0.8` → "ar"; a region counts for its language (`en-GB`
    → "en"); `q=0` refuses one; ties go to the first named. `default` when none fits."""
    best, best_q = default, 0.0
    for part in (accept_language or "")[:_MAX_HEADER].split(","):
        tag, _, params = part.strip().partition(";")
        language = tag.strip().lower().split("-")[0]
        q = _quality(params)
        if language in supported and q > best_q:
            best, best_q = language, q
    return best


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


LANGUAGES = ("ar", "en")  # what the API and its messages are written in


def caller_language(accept_language: str | None) -> str:
    """The caller's language from its `Accept-Language` header: Arabic or English (the
    default, for a caller that names neither)."""
    return preferred_language(accept_language, LANGUAGES, "en")
