"""Opaque pagination cursors: the sort key of the last item seen, base64url-encoded."""

from __future__ import annotations

import base64
import json

from booklnk.kernel.errors import ValidationFailed


def encode_cursor(values: list[str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, arity: int) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad_cursor() from exc
    if not isinstance(values, list) or len(values) != arity or not all(_clean(v) for v in values):
        raise _bad_cursor()
    return values


def _clean(value: object) -> bool:
    """A string PostgreSQL can take: no NUL, no lone surrogate (a tampered cursor)."""
    if not isinstance(value, str) or "\x00" in value:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _bad_cursor() -> ValidationFailed:
    return ValidationFailed.on("query.cursor", "valid_cursor", "The cursor is not one this API issued.")
