"""Kashier's hashes and signatures. Pure: strings in, strings out, no I/O.

- the order hash that protects the hosted payment page's parameters (PROTOCOL.md §1);
- the redirect signature on the browser's return (§2);
- the webhook signature over the ``signatureKeys`` fields (§3), which follows Kashier's
  Node reference code (``query-string@7``), so values are rendered as JavaScript would.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import math
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Final

from booklnk.kernel.money import MINOR_UNITS

# A webhook is acted on only when at least these fields are covered by its signature: the
# sender chooses signatureKeys, so a forger could otherwise sign nothing that matters.
REQUIRED_SIGNED_KEYS: Final = frozenset({"merchantOrderId", "transactionId", "status", "amount", "currency"})

# The browser return's signed fields, in the order they are concatenated (§2).
REDIRECT_FIELDS: Final = (
    "paymentStatus",
    "cardDataToken",
    "maskedCard",
    "merchantOrderId",
    "orderId",
    "cardBrand",
    "orderReference",
    "transactionId",
    "amount",
    "currency",
)

_PLAIN_DECIMAL: Final = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_UNRESERVED: Final = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
# Beyond 2**53 a JSON integer is a rounded double in JavaScript; render it the way Node would.
_JS_SAFE_INTEGER: Final = 2**53


def _hmac_hex(key: str, message: str) -> str:
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def format_amount(minor: int, currency: str = "EGP") -> str:
    """Integer minor units as Kashier's decimal string: 15000 EGP piasters -> "150.00".

    Always all the currency's decimals (PROTOCOL.md §1 decision), never floats."""
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise TypeError("amount must be an integer number of minor units")
    if minor < 0:
        raise ValueError("amount must not be negative")
    exp = MINOR_UNITS[currency]
    whole, frac = divmod(minor, 10**exp)
    return f"{whole}.{frac:0{exp}d}" if exp else str(whole)


def parse_amount(text: str, currency: str = "EGP") -> int:
    """A decimal string in major units back to minor units; refuses more decimals than the
    currency has, signs, exponents and anything that is not a plain decimal number."""
    if not _PLAIN_DECIMAL.fullmatch(text):
        raise ValueError(f"not a plain decimal amount: {text!r}")
    scaled = Decimal(text).scaleb(MINOR_UNITS[currency])
    if scaled != scaled.to_integral_value():
        raise ValueError(f"more decimals than {currency} has: {text!r}")
    return int(scaled)


def order_hash(api_key: str, mid: str, order_id: str, amount: str, currency: str) -> str:
    """Lowercase hex HMAC-SHA256 over ``/?payment=MID.orderId.amount.currency`` (§1).

    ``amount`` is the exact string sent in the URL: "150.00" and "150" hash differently."""
    return _hmac_hex(api_key, f"/?payment={mid}.{order_id}.{amount}.{currency}")


# --- webhook (§3) ---------------------------------------------------------------------------


def strict_encode(text: str) -> str:
    """RFC 3986 strict percent-encoding of UTF-8, as ``strict-uri-encode`` does: only
    ``A-Z a-z 0-9 - _ . ~`` stay, so ``! ' ( ) *`` and space (``%20``) are encoded too.

    A lone surrogate has no UTF-8 form (JavaScript's encodeURIComponent throws too)."""
    return "".join(chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in text.encode("utf-8"))


def js_number(value: float | int) -> str:
    """``String(x)`` of a JavaScript number (ECMA-262 Number::toString): shortest round-trip
    digits, no trailing ``.0``, exponent form only below 1e-6 or from 1e21 on."""
    if isinstance(value, int):
        if abs(value) < _JS_SAFE_INTEGER:
            return str(value)
        try:
            value = float(value)
        except OverflowError:  # beyond any double: JavaScript reads such a literal as Infinity
            return "Infinity" if value > 0 else "-Infinity"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"  # -0 too
    sign = "-" if value < 0 else ""
    # repr() gives the shortest digits that round-trip, the same choice JavaScript makes.
    _, digit_tuple, exponent = Decimal(repr(abs(value))).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    assert isinstance(exponent, int)  # finite
    k = len(digits)
    n = exponent + len(digit_tuple)  # value = 0.digits x 10**n
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        body = "0." + "0" * -n + digits
    else:
        e = n - 1
        mantissa = digits if k == 1 else f"{digits[0]}.{digits[1:]}"
        body = f"{mantissa}e{'+' if e > 0 else '-'}{abs(e)}"
    return sign + body


def js_string(value: Any) -> str:
    """``String(value)`` for a JSON value as JavaScript renders it inside a query string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return js_number(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return "[object Object]"
    raise TypeError(f"cannot render {type(value).__name__} as a JavaScript string")


def _pair(key: str, value: Any) -> list[str]:
    """One field as query-string@7 renders it: null -> bare key, arrays -> repeated key."""
    if value is None:
        return [strict_encode(key)]
    if isinstance(value, list | tuple):
        return [part for item in value for part in _pair(key, item)]
    return [f"{strict_encode(key)}={strict_encode(js_string(value))}"]


def signed_keys(data: Mapping[str, Any]) -> list[str]:
    """The keys the signature covers: listed in signatureKeys and present in data, once
    each, sorted by code point. A listed key absent from data is not signed."""
    listed = data.get("signatureKeys")
    if not isinstance(listed, list | tuple):
        return []
    return sorted({k for k in listed if isinstance(k, str) and k in data})


def webhook_payload(data: Mapping[str, Any]) -> str:
    """The string a webhook's signature is computed over (§3)."""
    return "&".join(part for key in signed_keys(data) for part in _pair(key, data[key]))


def webhook_signature(api_key: str, data: Mapping[str, Any]) -> str:
    return _hmac_hex(api_key, webhook_payload(data))


class WebhookCheck(enum.StrEnum):
    """Why a webhook was accepted or refused (refusals are logged, never acted on)."""

    OK = "ok"
    MISSING_SIGNATURE = "missing_signature"
    TOO_FEW_SIGNED_KEYS = "too_few_signed_keys"
    MALFORMED = "malformed"
    MISMATCH = "mismatch"


def check_webhook(api_key: str, data: Mapping[str, Any], signature: str | None) -> WebhookCheck:
    """Verify a webhook's ``data`` against its ``x-kashier-signature`` header value."""
    if not signature:
        return WebhookCheck.MISSING_SIGNATURE
    if not set(signed_keys(data)) >= REQUIRED_SIGNED_KEYS:
        return WebhookCheck.TOO_FEW_SIGNED_KEYS
    try:
        expected = webhook_signature(api_key, data)
    except (TypeError, UnicodeEncodeError):
        return WebhookCheck.MALFORMED
    # Bytes, so a non-ASCII header cannot make compare_digest raise; constant time either way.
    if hmac.compare_digest(expected.encode(), signature.strip().lower().encode("utf-8", "replace")):
        return WebhookCheck.OK
    return WebhookCheck.MISMATCH


def verify_webhook(api_key: str, data: Mapping[str, Any], signature: str | None) -> bool:
    return check_webhook(api_key, data, signature) is WebhookCheck.OK


# --- browser redirect (§2) ------------------------------------------------------------------


def redirect_payload(params: Mapping[str, str]) -> str:
    """``k1=v1&k2=v2…`` over the ten fields in their fixed order, values as received
    (URL-decoded, not re-encoded). ``mode``, ``signature`` and any parameter our own
    merchantRedirect carried are not among them. A field that did not arrive is left out,
    as Kashier's demos (which iterate over what arrived) do."""
    return "&".join(f"{k}={params[k]}" for k in REDIRECT_FIELDS if k in params)


def redirect_signature(api_key: str, params: Mapping[str, str]) -> str:
    return _hmac_hex(api_key, redirect_payload(params))


def verify_redirect(api_key: str, params: Mapping[str, str], signature: str | None = None) -> bool:
    """Check a browser return; ``signature`` defaults to ``params["signature"]``."""
    given = signature if signature is not None else params.get("signature")
    if not given:
        return False
    expected = redirect_signature(api_key, params)
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode("utf-8", "replace"))


def signed_redirect_query(
    api_key: str, fields: Iterable[tuple[str, str]], mode: str
) -> list[tuple[str, str]]:
    """The query a gateway appends to merchantRedirect: the fields, then mode and signature."""
    pairs = list(fields)
    return [*pairs, ("mode", mode), ("signature", redirect_signature(api_key, dict(pairs)))]
