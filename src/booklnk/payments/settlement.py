"""Applying a stored webhook delivery: exactly once, in one transaction with its effects.

The delivery row is locked and marked applied in the transaction that moves the money
(ledger rows, unique per source) and the booking, so a duplicate, a retry or a second
worker finds it applied and does nothing. Deliveries of one order are applied one at a
time (the job's lock), in whatever order they arrived; each effect is defined so that
any order ends in the same state: a FAILURE never undoes a payment, a refund is recorded
whether or not its payment has been seen yet.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking import service as bookings
from booklnk.db.database import Database
from booklnk.payments import refunds
from booklnk.payments.models import (
    AttemptStatus,
    LedgerEntry,
    LedgerKind,
    PaymentAttempt,
    PaymentOrder,
    WebhookDelivery,
)
from booklnk.tenancy.context import BusinessContext
from booklnk.tenancy.service import business_rules
from booklnk.tenancy.system import system_context

FAWRY_DEFAULT_HOLD = timedelta(hours=24)
LATE_BUT_FREE = "Confirmed by a payment that arrived after the hold had expired; the time was still free."
_REFUNDED = "A payment arrived {}; it is being refunded in full."
LATE_REFUNDED: dict[str, str] = defaultdict(
    lambda: _REFUNDED.format("for a booking that could not take it"),
    slot_taken=_REFUNDED.format("after the hold had expired and the time was taken"),
    booking_cancelled=_REFUNDED.format("after the booking was cancelled"),
)


@dataclass(frozen=True, slots=True)
class Applied:
    delivery_id: int
    outcome: str


async def apply(db: Database, delivery_id: int, *, now: datetime) -> Applied | None:
    """Apply one delivery; None if it was applied before (or is unknown)."""
    async with db.transaction() as session:
        delivery = await session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.applied_at is not None:
            return None
        order = await session.get(PaymentOrder, delivery.merchant_order_id)
        if order is None:
            # Money for an order we never issued: kept, and flagged for a person.
            delivery.applied_at, delivery.outcome = now, "unknown_order"
            return Applied(delivery_id, "unknown_order")
        business_id = order.business_id
    async with db.transaction(tenant_id=business_id) as session:
        locked = await session.get(WebhookDelivery, delivery_id, with_for_update=True, populate_existing=True)
        if locked is None or locked.applied_at is not None:
            return None
        attempt = await _attempt(session, business_id, locked.merchant_order_id)
        ctx = await system_context(session, business_id)
        outcome = await _effect(session, locked, attempt, ctx, now)
        locked.applied_at, locked.outcome = now, outcome
        return Applied(delivery_id, outcome)


async def _attempt(session: AsyncSession, business_id: uuid.UUID, order_id: str) -> PaymentAttempt:
    stmt = (
        select(PaymentAttempt)
        .where(PaymentAttempt.business_id == business_id, PaymentAttempt.order_id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one()


async def _effect(
    session: AsyncSession,
    delivery: WebhookDelivery,
    attempt: PaymentAttempt,
    ctx: BusinessContext | None,
    now: datetime,
) -> str:
    if (delivery.amount_minor, delivery.currency) != (attempt.amount_minor, attempt.currency) and (
        delivery.event == "pay"
    ):
        # Never applied silently: the payment waits for a person.
        attempt.status = AttemptStatus.FLAGGED
        attempt.review_reason = (
            f"{delivery.event} {delivery.status}: {delivery.amount_minor} {delivery.currency},"
            f" expected {attempt.amount_minor} {attempt.currency}"
        )
        if delivery.status == "SUCCESS":
            await _ledger(session, attempt, delivery, LedgerKind.CAPTURE)
        return "flagged_amount"
    if delivery.event == "refund":
        if delivery.status != "SUCCESS":
            return f"refund_{delivery.status.lower()}"
        await _ledger(session, attempt, delivery, LedgerKind.REFUND)
        return "refund_recorded"
    if delivery.status == "SUCCESS":
        await _ledger(session, attempt, delivery, LedgerKind.CAPTURE)
        attempt.status = AttemptStatus.PAID
        attempt.gateway_order_id = str(delivery.payload["data"].get("kashierOrderId") or "") or None
        outcome = await bookings.settle_payment(session, attempt.business_id, attempt.booking_id)
        if outcome == "reconfirmed":
            await bookings.note_reason(session, attempt.business_id, attempt.booking_id, LATE_BUT_FREE)
        elif outcome != "confirmed":
            # Late money for a time someone else took, or for a booking no longer wanted:
            # recorded above, and given back.
            reason = f"late_payment:{outcome}"
            await refunds.request(
                session, attempt.business_id, attempt.booking_id, amount_minor=None, reason=reason
            )
            await bookings.note_reason(
                session, attempt.business_id, attempt.booking_id, LATE_REFUNDED[outcome]
            )
            return f"refunded:{outcome}"
        return outcome
    if delivery.status == "PENDING":
        if attempt.status is AttemptStatus.STARTED:
            attempt.status = AttemptStatus.PENDING
        hold = FAWRY_DEFAULT_HOLD
        if ctx is not None:
            minutes = (await business_rules(session, ctx)).hold_minutes.get("fawry")
            hold = timedelta(minutes=minutes) if minutes else hold
        extended = await bookings.extend_hold(session, attempt.business_id, attempt.booking_id, now + hold)
        return "hold_extended" if extended else "pending_not_held"
    # FAILURE (or anything else): the attempt failed, unless money was already taken; the
    # hold stays until its expiry so the customer can try again.
    if attempt.status in (AttemptStatus.STARTED, AttemptStatus.PENDING):
        attempt.status = AttemptStatus.FAILED
    return f"pay_{delivery.status.lower()}"


async def _ledger(
    session: AsyncSession, attempt: PaymentAttempt, delivery: WebhookDelivery, kind: LedgerKind
) -> None:
    source = f"kashier:{delivery.event}:{delivery.transaction_id}:{delivery.amount_minor}"
    await session.execute(
        insert(LedgerEntry)
        .values(
            business_id=attempt.business_id,
            id=uuid.uuid4(),
            booking_id=attempt.booking_id,
            attempt_id=attempt.id,
            kind=kind,
            amount_minor=delivery.amount_minor,
            currency=delivery.currency,
            source=source,
        )
        .on_conflict_do_nothing(index_elements=["business_id", "source"])
    )
