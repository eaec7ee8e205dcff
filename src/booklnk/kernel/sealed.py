"""Short tokens that carry a few bytes and an HMAC over them, for links sent to people (a
pay link): anyone can read what they carry, nobody can change it or make one without the
key. Pure."""

from __future__ import annotations

import base64
import hashlib
import hmac

# 128 bits of tag: a forger's odds are nil, and a link stays short enough for a text.
_TAG_BYTES = 16
MAX_TOKEN = 512


def seal(key: bytes, payload: bytes) -> str:
    """`payload` and its tag, as URL-safe text (no padding)."""
    return _b64(payload + _tag(key, payload))


def unseal(key: bytes, token: str) -> bytes | None:
    """The payload sealed in `token`, or None when it was not made with `key` (or is not a
    token at all)."""
    if len(token) > MAX_TOKEN:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        return None
    payload, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
    if len(raw) <= _TAG_BYTES or not hmac.compare_digest(tag, _tag(key, payload)):
        return None
    return payload


def _tag(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()[:_TAG_BYTES]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
