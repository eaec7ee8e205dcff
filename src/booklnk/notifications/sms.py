"""The SMS channel through Cequens (an Egyptian/MENA gateway, PROTOCOLS.md §2): a message's
`short` words sent as one or more segments, with a signed link on which the gateway posts
its delivery report.

The pure parts (segment counting, the report link and its signature, reading a report)
are separate from the one function that talks HTTP, so they are tested without a network."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlencode

import httpx

from booklnk.notifications.channel import Outgoing, Refused, Sender, Unavailable

# --- Segments (pure) -------------------------------------------------------------------

# The GSM 03.38 default alphabet (3GPP TS 23.038 §6.2.1), in table order, without 0x1B (the
# escape to the extension table, not a character of its own).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table's characters (§6.2.1.1): each is sent as escape + code, two septets.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

# Characters per segment: alone, and when split (the rest of each part holds the
# concatenation header, UDH).
GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True, slots=True)
class Segments:
    encoding: Literal["gsm7", "ucs2"]
    # Septets for GSM-7 (extension characters count 2), UTF-16 code units for UCS-2.
    characters: int
    count: int


def segments(text: str) -> Segments:
    """How the gateway will send `text`: its encoding, its length in that encoding, and the
    number of segments (each billed as one SMS). One character outside GSM-7 makes the
    whole message UCS-2, which is every Arabic message. An empty text is no segment."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        widths = [2 if c in GSM7_EXTENSION else 1 for c in text]
        return Segments("gsm7", sum(widths), _count(widths, GSM7_SINGLE, GSM7_PART))
    # A character beyond the BMP is a surrogate pair: two UTF-16 code units.
    widths = [2 if ord(c) > 0xFFFF else 1 for c in text]
    return Segments("ucs2", sum(widths), _count(widths, UCS2_SINGLE, UCS2_PART))


def _count(widths: list[int], single: int, part: int) -> int:
    """Segments for characters of these widths: one if all fit in `single`, else parts of
    at most `part`, a character never split across two (a phone cannot join half an escape
    sequence or half a surrogate pair), so a 2-wide one at a boundary opens the next part."""
    total = sum(widths)
    if total == 0:
        return 0
    if total <= single:
        return 1
    count, used = 1, 0
    for width in widths:
        if used + width > part:
            count, used = count + 1, 0
        used += width
    return count


# --- Configuration and the report link (pure) -----------------------------------------


@dataclass(frozen=True, slots=True)
class CequensConfig:
    api_url: str  # e.g. "https://apis.cequens.com"
    username: str
    api_key: str = field(repr=False)  # (repr=False: never in a log line or a traceback)
    sender_name: str  # the pre-registered alphanumeric sender ID (Egyptian operators filter others)
    report_url: str | None  # where our service takes delivery reports; None: ask for none
    report_secret: str = field(repr=False)  # signs the reference in the report link
    timeout_seconds: float = 15.0
    max_segments: int = 6


def _signature(secret: str, reference: str) -> str:
    return hmac.new(secret.encode(), reference.encode(), hashlib.sha256).hexdigest()


def report_link(config: CequensConfig, reference: str) -> str | None:
    """The URL the gateway is to post this message's delivery report to: our report URL with
    the message's reference and its HMAC, so the intake knows the report is about a message
    we sent (Cequens signs nothing we know of, PROTOCOLS.md §2)."""
    if config.report_url is None:
        return None
    query = urlencode({"ref": reference, "sig": _signature(config.report_secret, reference)})
    return f"{config.report_url}{'&' if '?' in config.report_url else '?'}{query}"


def verify_report(secret: str, ref: str, sig: str) -> bool:
    """Whether `sig` is the report link's signature of `ref` (constant-time)."""
    return hmac.compare_digest(_signature(secret, ref).encode(), sig.encode("utf-8", "replace"))


# --- Delivery reports (pure) -----------------------------------------------------------

# ⚠ NOT VERIFIED: Cequens' reference (developer.cequens.com/reference/dlr-webhook-1) lists the
# DLR's fields by description only (client message id, Cequens message id, status 1 delivered
# / 2 undelivered, sender, recipient, account id, submit date "YYYY-MM-DDTHH:mm:ss.ms"), and
# as query parameters rather than a JSON body. The names below are our guess; capture a real
# report and correct them. Being a Mapping, a report's query parameters parse just as well.
REPORT_MESSAGE_ID = "messageId"
REPORT_STATUS = "status"
REPORT_DELIVERY_DATE = "deliveryDate"
REPORT_SUBMIT_DATE = "submitDate"
_REPORT_STATUSES: dict[str, Literal["delivered", "undelivered"]] = {"1": "delivered", "2": "undelivered"}


@dataclass(frozen=True, slots=True)
class Report:
    provider_message_id: str
    status: Literal["delivered", "undelivered"]
    at: datetime | None


def parse_report(body: Mapping[str, Any]) -> Report | None:
    """A delivery report from the gateway's fields; None when it is not one we understand
    (no message id, a status other than 1 or 2)."""
    message_id = body.get(REPORT_MESSAGE_ID)
    status = body.get(REPORT_STATUS)
    if not isinstance(message_id, str | int) or isinstance(message_id, bool) or not str(message_id).strip():
        return None
    if not isinstance(status, str | int) or isinstance(status, bool):
        return None
    found = _REPORT_STATUSES.get(str(status).strip())
    if found is None:
        return None
    at = _instant(body.get(REPORT_DELIVERY_DATE)) or _instant(body.get(REPORT_SUBMIT_DATE))
    return Report(provider_message_id=str(message_id).strip(), status=found, at=at)


def _instant(value: object) -> datetime | None:
    """An ISO 8601 date-time; one without a zone is taken as UTC (⚠ unverified: Cequens'
    documented format has none)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


# --- The channel (I/O) -----------------------------------------------------------------

_E164 = re.compile(r"\+[1-9]\d{7,14}")
# Cequens' reply codes (PROTOCOLS.md §2), for the reasons given with a refusal.
REPLY_CODES = {
    -6: "no valid recipient",
    -8: "invalid message type",
    -9: "empty message text",
    -12: "invalid sender name",
    -15: "invalid validity period",
    -16: "invalid delivery time",
    -17: "no credit",
    -41: "more than 20 parts",
}
# Codes that a later try can get past: credit is topped up by an operator.
_RETRYABLE_CODES = {-17}


def sender(config: CequensConfig, client: httpx.AsyncClient | None = None) -> Sender:
    """The channel: sign in once (the token is kept, and renewed once when the gateway
    answers 401), then send. A failure to sign in is Unavailable: wrong credentials are
    fixed by an operator, and the messages go then."""
    token: str | None = None

    async def send_one(outgoing: Outgoing) -> str:
        nonlocal token
        text = outgoing.rendered.short
        parts = segments(text)
        if parts.count > config.max_segments:
            raise Refused(f"text too long ({parts.count} segments, at most {config.max_segments})")
        if not _E164.fullmatch(outgoing.address):
            raise Refused("recipient is not an E.164 number")
        body: dict[str, Any] = {
            "senderName": config.sender_name,
            "messageType": "text" if parts.encoding == "gsm7" else "unicode",
            "messageText": text,
            "recipients": outgoing.address.removeprefix("+"),
        }
        if (link := report_link(config, outgoing.reference)) is not None:
            body["dlrUrl"] = link
        async with _client(client) as http:
            for renewed in (False, True):
                if token is None or renewed:
                    token = await _sign_in(http, config)
                answer = await _post(http, config, "/sms/v1/messages", body, token)
                if answer.status_code != 401:
                    return _message_id(answer)
        raise Unavailable("cequens: unauthorized after a new token")

    return send_one


@asynccontextmanager
async def _client(given: httpx.AsyncClient | None) -> AsyncIterator[httpx.AsyncClient]:
    """The caller's client, left open; or one of our own for this message, closed after."""
    if given is not None:
        yield given
        return
    async with httpx.AsyncClient() as own:
        yield own


async def _post(
    http: httpx.AsyncClient, config: CequensConfig, path: str, body: Mapping[str, Any], token: str | None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    try:
        return await http.post(
            f"{config.api_url.rstrip('/')}{path}", json=body, headers=headers, timeout=config.timeout_seconds
        )
    except httpx.TimeoutException as exc:
        raise Unavailable("cequens: timeout") from exc
    except httpx.HTTPError as exc:
        # (The exception's name only: its text can hold the request's URL or headers.)
        raise Unavailable(f"cequens unavailable ({type(exc).__name__})") from exc


async def _sign_in(http: httpx.AsyncClient, config: CequensConfig) -> str:
    answer = await _post(
        http, config, "/auth/v1/tokens", {"userName": config.username, "apiKey": config.api_key}, None
    )
    token = _field(_json(answer), "data", "access_token")
    if answer.status_code != 200 or not isinstance(token, str) or not token:
        raise Unavailable(f"cequens: sign-in failed (http {answer.status_code})")
    return token


def _message_id(answer: httpx.Response) -> str:
    """The gateway's id for the message, or the failure its answer says."""
    status = answer.status_code
    if status == 429 or status >= 500:
        raise Unavailable(f"cequens: http {status}")
    reply = _json(answer)
    code = _field(reply, "replyCode")
    # ⚠ Which HTTP status comes with a non-zero replyCode is not documented: the code decides.
    if isinstance(code, int) and not isinstance(code, bool) and code != 0:
        reason = f"cequens replyCode {code}" + (f": {REPLY_CODES[code]}" if code in REPLY_CODES else "")
        raise (Unavailable if code in _RETRYABLE_CODES else Refused)(reason)
    if 400 <= status < 500:
        raise Refused(f"cequens: http {status}")
    ids = _field(reply, "data", "SentSMSIDs")
    if isinstance(ids, list) and ids and isinstance(first := _field(ids[0], "SMSId"), str) and first:
        return first
    if _field(reply, "data", "InvalidRecipients"):
        raise Refused("cequens: invalid recipient")
    # Accepted without an id we can read: try again (a duplicate beats a lost message).
    raise Unavailable(f"cequens: unexpected answer (http {status})")


def _json(answer: httpx.Response) -> object:
    try:
        return answer.json()
    except ValueError:
        return None


def _field(value: object, *path: str) -> object:
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value
