"""Receiving Kashier's webhooks: verify, store once, acknowledge; the effect comes later.

A delivery is verified against the Payment API key before anything is written (a refused
one leaves a log line and nothing else), stored with a unique key per distinct event so a
duplicate is acknowledged without a second row, and its application is enqueued in the
same transaction: once stored, it will be applied even if the process dies right after.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.db.jobs import Job, enqueue
from booklnk.kernel.errors import ValidationFailed
from booklnk.payments.errors import WebhookRejected
from booklnk.payments.kashier.client import minor_from_major
from booklnk.payments.kashier.signing import WebhookCheck, check_webhook
from booklnk.payments.models import WebhookDelivery

log = structlog.get_logger(__name__)
APPLY_WEBHOOK = "payments.apply_webhook"
EVENTS = frozenset({"pay", "refund"})


@dataclass(frozen=True, slots=True)
class Received:
    delivery_id: int | None  # None: a duplicate of one already stored
    event: str
    merchant_order_id: str


def parse(body: bytes) -> tuple[str, Mapping[str, Any]]:
    """The event and its `data`, or 422 when the body is not a Kashier webhook at all."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed.on("body", "json", "The body is not JSON.") from None
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        raise ValidationFailed.on("body.data", "required", "A Kashier webhook carries an object `data`.")
    event = document.get("event")
    if event not in EVENTS:
        raise ValidationFailed.on("body.event", "one_of", "`event` is `pay` or `refund`.")
    return str(event), document["data"]


def verify(api_key: str, data: Mapping[str, Any], signature: str | None) -> None:
    check = check_webhook(api_key, data, signature)
    if check is not WebhookCheck.OK:
        # The log line is all a refused delivery leaves: its reason, never its content.
        log.warning("kashier_webhook_refused", reason=check.value)
        raise WebhookRejected("The webhook's signature does not verify.")


async def record(session: AsyncSession, event: str, data: Mapping[str, Any]) -> Received:
    """Store a verified delivery (once per distinct event) and enqueue its application."""
    currency = str(data.get("currency", ""))
    try:
        amount_minor = minor_from_major(data.get("amount"), currency)
    except (ValueError, KeyError):
        raise ValidationFailed.on("body.data.amount", "amount", "Not an amount in that currency.") from None
    return await store(
        session,
        Event(
            event=event,
            transaction_id=str(data.get("transactionId", "")),
            status=str(data.get("status", "")),
            amount_minor=amount_minor,
            currency=currency,
            merchant_order_id=str(data.get("merchantOrderId", "")),
        ),
        {"event": event, "data": dict(data)},
    )


@dataclass(frozen=True, slots=True)
class Event:
    """What a delivery says, in the fields its uniqueness and its effect depend on."""

    event: str
    transaction_id: str
    status: str
    amount_minor: int
    currency: str
    merchant_order_id: str


async def store(session: AsyncSession, event: Event, payload: Mapping[str, Any]) -> Received:
    """Store an event once (a webhook, or one reconciliation found the gateway knows) and
    enqueue its application in the same transaction."""
    stmt = (
        insert(WebhookDelivery)
        .values(
            event=event.event,
            transaction_id=event.transaction_id,
            status=event.status,
            amount_minor=event.amount_minor,
            currency=event.currency,
            merchant_order_id=event.merchant_order_id,
            payload=dict(payload),
        )
        .on_conflict_do_nothing(constraint="uq_webhook_delivery_event")
        .returning(WebhookDelivery.id)
    )
    delivery_id = (await session.execute(stmt)).scalar_one_or_none()
    if delivery_id is not None:
        await enqueue_application(session, delivery_id, event.merchant_order_id)
    return Received(delivery_id, event.event, event.merchant_order_id)


async def enqueue_application(session: AsyncSession, delivery_id: int, merchant_order_id: str) -> None:
    # One application at a time per order, so out-of-order events settle in sequence.
    job = Job(APPLY_WEBHOOK, {"delivery_id": delivery_id}, lock=f"order:{merchant_order_id}")
    await enqueue(session, job)


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
    await enqueue_application(session, unapplied, event.merchant_order_id)
    return True
