"""Receiving Kashier's webhooks: verify, store once, acknowledge; the effect comes later.

A delivery is verified against the Payment API key before anything is written (a refused
one leaves a log line and nothing else), stored with a unique key per distinct event so a
duplicate is acknowledged without a second row, and its application is enqueued in the
same transaction: once stored, it will be applied even if the process dies right after.

A verified delivery whose fields do not fit (an amount that is not one, or beyond what a
bigint holds, an unknown currency, an id longer than its column) is still Kashier's: it
is kept, flagged `flagged_malformed` and never applied, and acknowledged, so it is
neither lost nor retried for a day.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.db.bound import bound_columns, bound_values
from booklnk.db.jobs import DEFAULT_QUEUE, GATEWAY_QUEUE, Job, deferring_column, enqueue, job_params
from booklnk.kernel.errors import ValidationFailed
from booklnk.kernel.money import MINOR_UNITS
from booklnk.payments.errors import WebhookRejected
from booklnk.payments.kashier.client import minor_from_major
from booklnk.payments.kashier.signing import WebhookCheck, check_webhook, webhook_payload
from booklnk.payments.models import WebhookDelivery

log = structlog.get_logger(__name__)
APPLY_WEBHOOK = "payments.apply_webhook"
EVENTS = frozenset({"pay", "refund"})
MAX_EVENT_LENGTH = 20  # the webhook_delivery column
MAX_DEPTH = 32  # Kashier's webhooks nest four levels
BIGINT_MAX = 2**63 - 1
# The webhook_delivery columns these fields are stored in.
FIELD_LIMITS = {"transactionId": 100, "status": 20, "merchantOrderId": 100}
# A JSON \u0000 escape whose backslash is not itself escaped.
_NUL_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


@dataclass(frozen=True, slots=True)
class Received:
    delivery_id: int | None  # None: a duplicate of one already stored (or an ignored event)
    event: str
    merchant_order_id: str
    ignored: bool = False  # an event Kashier does not document: acknowledged, not stored


def parse(body: bytes) -> tuple[str, Mapping[str, Any]]:
    """The event and its `data`, or 422 when the body is not a Kashier webhook at all."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ValidationFailed.on("body", "json", "The body is not JSON.") from None
    if _depth(document) > MAX_DEPTH:
        raise ValidationFailed.on("body", "max_depth", f"Nested deeper than {MAX_DEPTH} levels.")
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        raise ValidationFailed.on("body.data", "required", "A Kashier webhook carries an object `data`.")
    event = document.get("event")
    # Any short name: one Kashier does not document yet is judged after its signature
    # (acknowledged and logged, never refused: Kashier would retry it for a day).
    if not isinstance(event, str) or not 0 < len(event) <= MAX_EVENT_LENGTH:
        raise ValidationFailed.on("body.event", "event_name", "`event` is a name such as `pay` or `refund`.")
    return event, document["data"]


def verify(api_key: str, data: Mapping[str, Any], signature: str | None) -> None:
    check = check_webhook(api_key, data, signature)
    if check is not WebhookCheck.OK:
        # The log line is all a refused delivery leaves: its reason, never its content.
        log.warning("kashier_webhook_refused", reason=check.value)
        raise WebhookRejected("The webhook's signature does not verify.")


def _depth(document: Any) -> int:
    """How deeply a JSON document nests (iteratively: a deep one must not blow the stack)."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return deepest


async def record(session: AsyncSession, event: str, data: Mapping[str, Any]) -> Received:
    """Store a verified delivery (once per distinct event) and enqueue its application;
    one whose fields do not fit is kept, flagged, and not applied. An event we do not know
    is logged and acknowledged, and nothing is stored (`delivery_id` None, `ignored`)."""
    if event not in EVENTS:
        log.warning("kashier_webhook_event_ignored", kashier_event=event)
        return Received(None, event, _clip(data.get("merchantOrderId"), 100), ignored=True)
    payload = _storable({"event": event, "data": dict(data)})
    found = _event(event, data)
    if found is None:
        return await _keep_malformed(session, event, data, payload)
    return await store(session, found, payload)


def _event(event: str, data: Mapping[str, Any]) -> Event | None:
    """What the delivery says, or None when a field does not fit its column or meaning."""
    fields = {name: _text(data.get(name), limit) for name, limit in FIELD_LIMITS.items()}
    currency = data.get("currency")
    if None in fields.values() or not isinstance(currency, str) or currency not in MINOR_UNITS:
        return None
    try:
        amount_minor = minor_from_major(data.get("amount"), currency)
    except ValueError:
        return None
    if not 0 <= amount_minor <= BIGINT_MAX:
        return None
    return Event(
        event=event,
        transaction_id=str(fields["transactionId"]),
        status=str(fields["status"]),
        amount_minor=amount_minor,
        currency=currency,
        merchant_order_id=str(fields["merchantOrderId"]),
    )


def _text(value: Any, limit: int) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # a numeric id, as Kashier's JavaScript would print it
    if isinstance(value, str) and 0 < len(value) <= limit and "\x00" not in value:
        return value
    return None


def _clip(value: Any, limit: int) -> str:
    return ("" if value is None else str(value)).replace("\x00", "")[:limit]


def _storable(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload as JSONB can hold it: PostgreSQL refuses a NUL character (\\u0000)
    anywhere in a document, so each becomes the six characters of its escape."""
    text = json.dumps(payload)
    if "\\u0000" not in text:
        return dict(payload)
    stored: dict[str, Any] = json.loads(_NUL_ESCAPE.sub(r"\1\\\\u0000", text))
    return stored


async def _keep_malformed(
    session: AsyncSession, event: str, data: Mapping[str, Any], payload: Mapping[str, Any]
) -> Received:
    # Its own key: a digest of what was signed, so a retry of it is a duplicate and it
    # can never collide with a well-formed delivery.
    digest = hashlib.sha256(webhook_payload(data).encode()).hexdigest()
    order_id = _clip(data.get("merchantOrderId"), 100)
    stmt = (
        insert(WebhookDelivery)
        .values(
            event=event,
            transaction_id=f"malformed:{digest}",
            status=_clip(data.get("status"), 20),
            amount_minor=0,
            currency=_clip(data.get("currency"), 3),
            merchant_order_id=order_id,
            payload=dict(payload),
            applied_at=func.now(),
            outcome="flagged_malformed",
        )
        .on_conflict_do_nothing(constraint="uq_webhook_delivery_event")
        .returning(WebhookDelivery.id)
    )
    delivery_id = (await session.execute(stmt)).scalar_one_or_none()
    log.warning("kashier_webhook_malformed", delivery_id=delivery_id)  # its content stays in the row
    return Received(delivery_id, event, order_id)


@dataclass(frozen=True, slots=True)
class Event:
    """What a delivery says, in the fields its uniqueness and its effect depend on."""

    event: str
    transaction_id: str
    status: str
    amount_minor: int
    currency: str
    merchant_order_id: str


# Built once, its values the execution's parameters: composed for each delivery, it cost
# the intake as much CPU as its round trip (py-spy on the API under bench/intake.py).
_EVENT_FIELDS = tuple(f.name for f in fields(Event))
_RECORDED = (
    insert(WebhookDelivery)
    .values(bound_columns(WebhookDelivery.__table__, (*_EVENT_FIELDS, "payload"), "d_"))
    .on_conflict_do_nothing(constraint="uq_webhook_delivery_event")
    .returning(WebhookDelivery.id)
    .cte("recorded")
)
# The application is queued with the stored row, its id taken from it: a delivery stored
# before selects no row and queues nothing. One round trip for both.
_STORE = select(_RECORDED.c.id, deferring_column(row_argument=("delivery_id", "recorded.id")))


async def store(session: AsyncSession, event: Event, payload: Mapping[str, Any]) -> Received:
    """Store an event once (a webhook, or one reconciliation found the gateway knows) and
    enqueue its application in the same transaction."""
    row = {name: getattr(event, name) for name in _EVENT_FIELDS} | {"payload": dict(payload)}
    params = bound_values("d_", row) | job_params([_application(event.merchant_order_id, event.event, {})])
    found = (await session.execute(_STORE, params)).one_or_none()
    return Received(None if found is None else found.id, event.event, event.merchant_order_id)


async def enqueue_application(
    session: AsyncSession, delivery_id: int, merchant_order_id: str, event: str
) -> None:
    await enqueue(session, _application(merchant_order_id, event, {"delivery_id": delivery_id}))


def _application(merchant_order_id: str, event: str, args: dict[str, Any]) -> Job:
    # One application at a time per order, so out-of-order events settle in sequence. A
    # refund's may have to look the order up at Kashier first (one we did not ask for):
    # it waits on the gateway's queue, a payment's confirmation never does.
    queue = GATEWAY_QUEUE if event == "refund" else DEFAULT_QUEUE
    return Job(APPLY_WEBHOOK, args, lock=f"order:{merchant_order_id}", queue=queue)


async def heal(session: AsyncSession, event: Event) -> bool:
    """Store an event the gateway knows and we have not applied (reconciliation): a new
    delivery, or one stored before whose application never happened, queued again.
    True if something was queued."""
    received = await store(session, event, {"event": event.event, "data": {"source": "reconciliation"}})
    if received.delivery_id is not None:
        return True
    unapplied = await session.scalar(
        select(WebhookDelivery.id).where(
            WebhookDelivery.event == event.event,
            WebhookDelivery.transaction_id == event.transaction_id,
            WebhookDelivery.status == event.status,
            WebhookDelivery.amount_minor == event.amount_minor,
            WebhookDelivery.applied_at.is_(None),
        )
    )
    if unapplied is None:
        return False
    await enqueue_application(session, unapplied, event.merchant_order_id, event.event)
    return True
