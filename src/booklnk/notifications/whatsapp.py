"""The WhatsApp channel: Meta's WhatsApp Business Cloud API.

Booklnk writes first, so it always sends an approved *template*: free-form text reaches a
customer only within 24 hours of their last message to us (else error 131047), and Booklnk
does not track that window. Each of our templates that WhatsApp may carry has a twin at Meta
(`TEMPLATES`), whose blanks are filled from the message's params, formatted in the
recipient's language by the same Babel rules as `rendering`.

Pure parts: the request body (`template_payload`), the webhook signature, the subscription
handshake and the status reports (`parse_statuses`). The only I/O is `sender`'s one POST.
The Cloud API has no idempotency key: a send that timed out after Meta took it is sent again
on retry, which is the price of never losing one."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from booklnk.notifications.channel import Outgoing, Refused, Sender, Unavailable
from booklnk.notifications.rendering import Formats, formats


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatsAppConfig:
    phone_number_id: str
    access_token: str
    app_secret: str  # signs the status webhooks (X-Hub-Signature-256)
    verify_token: str  # what Meta echoes in the webhook subscription handshake
    api_url: str = "https://graph.facebook.com"
    api_version: str = "v21.0"
    timeout_seconds: float = 15.0


Category = Literal["UTILITY", "AUTHENTICATION"]


@dataclass(frozen=True, slots=True)
class WhatsAppTemplate:
    """One template as approved at Meta. `parameters` are the body's named blanks in order
    (an AUTHENTICATION template has Meta's fixed words and one positional blank, the code,
    which its copy-code button carries too). `text` is the body submitted for approval, per
    Meta language code: what an operator files, and what the simulator shows."""

    name: str
    category: Category
    parameters: tuple[str, ...]
    text: Mapping[str, str]


# Our language -> Meta's language code of the template's translation.
LANGUAGE_CODES: Mapping[str, str] = {"ar": "ar", "en": "en_US"}

_BOOKING = ("customer_name", "service", "business", "date", "time")
# Meta writes an authentication template's words itself (here with the security
# recommendation, and an expiry footer of 15 minutes, the codes' lifetime in
# tenancy.accounts, chosen when the template is created); these are their gist.
_CODE_TEXT = {
    "ar": "رمز التحقق الخاص بك هو {{1}}. لا تشاركه مع أحد. تنتهي صلاحيته خلال 15 دقيقة.",
    "en_US": "{{1}} is your verification code. For your security, do not share this code. "
    "This code expires in 15 minutes.",
}


def _booking_text(ar: str, en: str, *, ar_tail: str, en_tail: str) -> dict[str, str]:
    """A booking template's body: a greeting, what happened, then the booking."""
    ar_booking = "{{service}} في {{business}}، {{date}} الساعة {{time}}"
    en_booking = "{{service}} at {{business}}, {{date}} {{time}}"
    return {
        "ar": f"مرحبًا {{{{customer_name}}}}، {ar}: {ar_booking}{ar_tail}",
        "en_US": f"Hello {{{{customer_name}}}}, {en}: {en_booking}{en_tail}",
    }


# Meta approves no body that ends with a blank: each ends with words of the e-mail's.
TEMPLATES: Mapping[str, WhatsAppTemplate] = {
    "booking_confirmed": WhatsAppTemplate(
        "booklnk_booking_confirmed",
        "UTILITY",
        (*_BOOKING, "price"),
        _booking_text(
            "تم تأكيد حجزك",
            "your booking is confirmed",
            ar_tail=". السعر: {{price}}. سنذكّرك قبل الموعد.",
            en_tail=". Price: {{price}}. We will remind you before it.",
        ),
    ),
    "booking_cancelled": WhatsAppTemplate(
        "booklnk_booking_cancelled",
        "UTILITY",
        _BOOKING,
        _booking_text(
            "تم إلغاء هذا الحجز",
            "this booking is cancelled",
            ar_tail=". إن كنت دفعت أونلاين فما تردّه سياسة النشاط يُسترد إلى البطاقة أو المحفظة نفسها.",
            en_tail=". If you paid online, what the business's policy returns is refunded to the same"
            " card or wallet.",
        ),
    ),
    "booking_rescheduled": WhatsAppTemplate(
        "booklnk_booking_rescheduled",
        "UTILITY",
        _BOOKING,
        _booking_text(
            "لحجزك موعد جديد",
            "your booking has a new time",
            ar_tail=". التذكيرات تتبع الموعد الجديد.",
            en_tail=". The reminders follow it.",
        ),
    ),
    "booking_reminder": WhatsAppTemplate(
        "booklnk_booking_reminder",
        "UTILITY",
        _BOOKING,
        _booking_text(
            "تذكير بحجزك",
            "a reminder of your booking",
            ar_tail=". إن لم تستطع الحضور فألغِ الحجز من حجوزاتك ليأخذ غيرك الموعد.",
            en_tail=". If you cannot come, please cancel it in your bookings so someone else can take"
            " the time.",
        ),
    ),
    "hold_lapsing": WhatsAppTemplate(
        "booklnk_hold_lapsing",
        "UTILITY",
        (*_BOOKING, "deadline", "link"),
        _booking_text(
            "حجزك ينتظر الدفع",
            "your booking is waiting for payment",
            ar_tail=". ادفع قبل {{deadline}} ليبقى لك: {{link}} وإلا يُتاح الموعد لغيرك.",
            en_tail=". Pay before {{deadline}} to keep it: {{link}} or the time is freed for others.",
        ),
    ),
    "payment_received": WhatsAppTemplate(
        "booklnk_payment_received",
        "UTILITY",
        ("customer_name", "amount", *_BOOKING[1:]),
        _booking_text(
            "استلمنا {{amount}}",
            "we received {{amount}}",
            ar_tail=". شكرًا لك.",
            en_tail=". Thank you.",
        ),
    ),
    "refund_sent": WhatsAppTemplate(
        "booklnk_refund_sent",
        "UTILITY",
        ("customer_name", "amount", *_BOOKING[1:]),
        _booking_text(
            "رددنا {{amount}}",
            "we refunded {{amount}}",
            ar_tail=". يصل إلى البطاقة أو المحفظة التي دفعت بها خلال أيام قليلة حسب البنك.",
            en_tail=". It reaches the card or wallet you paid with within a few days, as your bank takes it.",
        ),
    ),
    "waitlist_promoted": WhatsAppTemplate(
        "booklnk_waitlist_promoted",
        "UTILITY",
        (*_BOOKING, "deadline", "link"),
        _booking_text(
            "خلا مكان لك من قائمة الانتظار",
            "a place came free for you from the waitlist",
            ar_tail=". ادفع قبل {{deadline}} ليبقى لك: {{link}} وإلا ينتقل إلى التالي في القائمة.",
            en_tail=". Pay before {{deadline}} to keep it: {{link}} or it goes to the next in line.",
        ),
    ),
    **{
        ours: WhatsAppTemplate(f"booklnk_{ours}", "AUTHENTICATION", ("code",), _CODE_TEXT)
        for ours in ("registration_code", "password_reset_code", "sign_in_code", "phone_verification_code")
    },
}
# (account_exists, password_changed, password_reset_no_account, phone_removed and
# staff_invitation are notices about an account, sent to its e-mail address: no twin here.)


def _isolate(value: object) -> str:
    """A name set apart from the sentence's direction (U+2068 … U+2069, as rendering.py does
    in plain text): a Latin business name in an Arabic sentence cannot reorder it."""
    return f"\u2068{value}\u2069"


# Each blank at Meta, from our params, written as the templates write them (rendering.Formats).
_VALUES: Mapping[str, Callable[[Mapping[str, Any], Formats], str]] = {
    "customer_name": lambda p, _: _isolate(p["name"]),
    "service": lambda p, _: _isolate(p["service"]),
    "business": lambda p, _: _isolate(p["business"]),
    "date": lambda p, written: written.date(p["starts_at"], p["time_zone"]),
    "time": lambda p, written: written.clock(p["starts_at"], p["time_zone"]),
    "price": lambda p, written: written.money(int(p["price_minor"]), p["currency"]),
    "code": lambda p, _: str(p["code"]),
    "deadline": lambda p, written: written.clock(p["until"], p["time_zone"]),
    "link": lambda p, _: str(p["pay_url"]),
    "amount": lambda p, written: written.money(int(p["amount_minor"]), p["currency"]),
}

_E164 = re.compile(r"\+?([0-9]{8,15})")
# Meta refuses a blank holding a newline, a tab or more than four spaces in a row.
_BAD_SPACE = re.compile(r"[\r\n\t]| {5,}")


def parameter_values(template: WhatsAppTemplate, language: str, params: Mapping[str, Any]) -> list[str]:
    """The template's blanks in order, written in `language`; a missing param is a KeyError."""
    written = formats(language)
    return [_BAD_SPACE.sub(" ", _VALUES[name](params, written)).strip() for name in template.parameters]


def template_payload(outgoing: Outgoing) -> dict[str, Any]:
    """The Cloud API request body for `outgoing`. ValueError (KeyError for a missing
    param, TypeError for a wrong one) when it cannot go by WhatsApp: no twin template,
    another language, no phone number."""
    template = TEMPLATES.get(outgoing.template)
    if template is None:
        raise ValueError(f"no WhatsApp template for {outgoing.template!r}")
    if outgoing.language not in LANGUAGE_CODES:
        raise ValueError(f"no WhatsApp language for {outgoing.language!r}")
    number = _E164.fullmatch(outgoing.address)
    if number is None:
        raise ValueError("the address is not an E.164 phone number")
    values = parameter_values(template, outgoing.language, outgoing.params)
    components: list[dict[str, Any]]
    if template.category == "AUTHENTICATION":
        code = [{"type": "text", "text": values[0]}]
        components = [
            {"type": "body", "parameters": code},
            {"type": "button", "sub_type": "url", "index": 0, "parameters": code},
        ]
    else:
        named = [
            {"type": "text", "parameter_name": name, "text": value}
            for name, value in zip(template.parameters, values, strict=True)
        ]
        components = [{"type": "body", "parameters": named}]
    return {
        "messaging_product": "whatsapp",
        "to": number.group(1),
        "type": "template",
        "biz_opaque_callback_data": outgoing.reference,
        "template": {
            "name": template.name,
            "language": {"code": LANGUAGE_CODES[outgoing.language]},
            "components": components,
        },
    }


# Error codes (pywa's errors.py; Meta's error-code page) that a later try can get past: the
# token or the app's permissions (an operator fixes them, then the messages go), rate limits,
# Meta's own trouble. Any other refusal is about this message or this recipient.
_TRY_LATER = frozenset(
    {0, 3, 4, 10, 190, *range(200, 300), 368, 80007, 130429, 131000, 131016, 131042, 131056, 131057, 133016}
)


def _error_code(response: httpx.Response) -> int | None:
    try:
        error = response.json().get("error")
        code = error.get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def sender(config: WhatsAppConfig, client: httpx.AsyncClient | None = None) -> Sender:
    """The channel: one POST per message; returns Meta's message id (the wamid)."""
    url = f"{config.api_url.rstrip('/')}/{config.api_version}/{config.phone_number_id}/messages"
    headers = {"Authorization": f"Bearer {config.access_token}"}

    async def post(http: httpx.AsyncClient, payload: dict[str, Any]) -> httpx.Response:
        try:
            return await http.post(url, json=payload, headers=headers, timeout=config.timeout_seconds)
        except httpx.HTTPError as exc:
            # (The exception's name only: its text may quote the request.)
            raise Unavailable(f"whatsapp unavailable ({type(exc).__name__})") from exc

    async def send_one(outgoing: Outgoing) -> str:
        try:
            payload = template_payload(outgoing)
        except (ValueError, KeyError, TypeError) as exc:
            raise Refused(f"not sendable by whatsapp ({type(exc).__name__})") from exc
        if client is not None:
            response = await post(client, payload)
        else:
            async with httpx.AsyncClient() as http:
                response = await post(http, payload)
        return _answer(response)

    return send_one


def _answer(response: httpx.Response) -> str:
    """The wamid from a 200; otherwise the failure, from Meta's error code (never its
    message: it may quote the recipient or the parameters). Only a 4xx about this message
    is Refused: anything else (5xx, a redirect from a wrong URL) waits for Meta or an
    operator. (A 200 without an id is odd enough to try again, at the risk of a repeat.)"""
    if response.is_success:
        try:
            wamid = response.json()["messages"][0]["id"]
        except (ValueError, LookupError, TypeError):
            wamid = None
        if not isinstance(wamid, str) or not wamid:
            raise Unavailable("whatsapp answered 200 without a message id")
        return wamid[:200]
    code = _error_code(response)
    if not 400 <= response.status_code < 500 or response.status_code in (408, 429) or code in _TRY_LATER:
        raise Unavailable(f"whatsapp unavailable (HTTP {response.status_code}, code {code})")
    raise Refused(f"whatsapp refused (HTTP {response.status_code}, code {code})")


# --- webhook intake (pure) ---

_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")


def verify_signature(app_secret: str, raw_body: bytes, header: str | None) -> bool:
    """X-Hub-Signature-256 is `sha256=` + the hex HMAC-SHA256 of the raw body under the app
    secret: check it before parsing anything, in constant time. An empty secret verifies
    nothing (anyone could compute its HMAC)."""
    found = _SIGNATURE.fullmatch(header) if header is not None else None
    if found is None or not app_secret:
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, found.group(1).lower())


def subscription_challenge(
    config: WhatsAppConfig, mode: str | None, token: str | None, challenge: str | None
) -> str | None:
    """Meta's GET handshake (`hub.mode`, `hub.verify_token`, `hub.challenge`): the challenge
    to answer with 200, or None (answer 403). A long challenge is refused rather than echoed."""
    if mode != "subscribe" or token is None or challenge is None or len(challenge) > 256:
        return None
    if not hmac.compare_digest(token.encode(), config.verify_token.encode()):
        return None
    return challenge


StatusName = Literal["sent", "delivered", "read", "failed"]
_STATUSES: tuple[StatusName, ...] = ("sent", "delivered", "read", "failed")


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    provider_message_id: str
    status: StatusName
    at: datetime
    reference: str | None
    error_code: int | None


# What one webhook body is read for at most: Meta batches a few, an attacker many.
_MAX_ITEMS = 100
_MAX_ID = 256
_MAX_REFERENCE = 512


def parse_statuses(payload: Mapping[str, Any]) -> list[StatusUpdate]:
    """The delivery reports in a (verified) webhook body; inbound messages and anything
    malformed are skipped, never raised on."""
    if not isinstance(payload, Mapping) or payload.get("object") != "whatsapp_business_account":
        return []
    found: list[StatusUpdate] = []
    for status in _statuses(payload):
        update = _status(status)
        if update is not None:
            found.append(update)
        if len(found) >= _MAX_ITEMS:
            break
    return found


def _items(value: object) -> list[Any]:
    return value[:_MAX_ITEMS] if isinstance(value, list) else []


def _statuses(payload: Mapping[str, Any]) -> Iterator[Any]:
    for entry in _items(payload.get("entry")):
        for change in _items(entry.get("changes") if isinstance(entry, Mapping) else None):
            if isinstance(change, Mapping) and change.get("field", "messages") == "messages":
                value = change.get("value")
                yield from _items(value.get("statuses") if isinstance(value, Mapping) else None)


def _status(status: object) -> StatusUpdate | None:
    if not isinstance(status, Mapping):
        return None
    wamid, name, stamp = status.get("id"), status.get("status"), status.get("timestamp")
    if not isinstance(wamid, str) or not 0 < len(wamid) <= _MAX_ID or name not in _STATUSES:
        return None
    if not isinstance(stamp, str) or not stamp.isascii() or not stamp.isdigit() or len(stamp) > 10:
        return None
    reference = status.get("biz_opaque_callback_data")
    if not isinstance(reference, str) or len(reference) > _MAX_REFERENCE:
        reference = None
    return StatusUpdate(
        provider_message_id=wamid,
        status=name,
        at=datetime.fromtimestamp(int(stamp), UTC),
        reference=reference,
        error_code=_first_error(status.get("errors")),
    )


def _first_error(errors: object) -> int | None:
    first = errors[0] if isinstance(errors, list) and errors else None
    code = first.get("code") if isinstance(first, Mapping) else None
    return code if isinstance(code, int) and not isinstance(code, bool) and abs(code) < 2**31 else None
