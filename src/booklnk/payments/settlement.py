"""Applying a stored webhook delivery: exactly once, in one transaction with its effects.

The delivery row is locked and marked applied in the transaction that moves the money
(ledger rows, unique per source) and the booking, so a duplicate, a retry or a second
worker finds it applied and does nothing. Deliveries of one order are applied one at a
time (the job's lock), in whatever order they arrived; each effect is defined so that
any order ends in the same state: a FAILURE never undoes a payment, a refund is recorded
whether or not its payment has been seen yet.

Kashier's signature covers `data` but not `event`, so a signed payment can be replayed
as a refund and the other way round. A refund that matches no refund we asked for is
therefore checked against the gateway's order lookup first (outside any transaction; a
failed lookup fails the job, which retries), and a payment whose transaction id is
known as a refund is flagged, never applied. A refund is recorded only in the payment's
currency and never beyond what was captured (else the attempt is flagged for a person);
the intent it reports (same gateway id and amount) is then settled.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import structlog
from sqlalchemy import func, select, union_all
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking import holds, transitions
from booklnk.booking import repository as booking_repository
from booklnk.booking.lifecycle import Action
from booklnk.booking.models import BookingStatus
from booklnk.booking.repository import Audit
from booklnk.business_types.definition import PaymentMethod
from booklnk.db.database import Database, set_tenant
from booklnk.payments import ledger, refunds
from booklnk.payments.kashier.client import OrderFound, OrderLookup
from booklnk.payments.models import (
    AttemptPurpose,
    AttemptStatus,
    LedgerEntry,
    LedgerKind,
    PaymentAttempt,
    PaymentOrder,
    RefundIntent,
    RefundStatus,
    WebhookDelivery,
)
from booklnk.tenancy.system import system_context

log = structlog.get_logger(__name__)
FAWRY_DEFAULT_HOLD = timedelta(hours=24)
REFUNDED_IN_FULL = "Everything paid for it was refunded, so it was cancelled and its time freed."
LATE_BUT_FREE = "Confirmed by a payment that arrived after the hold had expired; the time was still free."
_REFUNDED = "A payment arrived {}; it is being refunded in full."
LATE_REFUNDED: dict[str, str] = defaultdict(
    lambda: _REFUNDED.format("for a booking that could not take it"),
    slot_taken=_REFUNDED.format("after the hold had expired and the time was taken"),
    booking_cancelled=_REFUNDED.format("after the booking was cancelled"),
    booking_confirmed=_REFUNDED.format("for a booking already paid"),
)
Lookup = Callable[[str], Awaitable[OrderLookup]]


@dataclass(frozen=True, slots=True)
class Applied:
    delivery_id: int
    outcome: str


@dataclass(frozen=True, slots=True)
class _NeedsLookup:
    """A refund no intent of ours accounts for: the gateway must vouch for it first."""

    order_id: str


async def apply(db: Database, delivery_id: int, *, now: datetime, lookup: Lookup) -> Applied | None:
    """Apply one delivery; None if it was applied before (or is unknown). One transaction,
    but for a refund we did not ask for: then `lookup` is called between two (never
    inside one), and its answer judges the refund."""
    async with db.transaction() as session:
        done = await _apply_in(session, delivery_id, now, gateway=None)
    if not isinstance(done, _NeedsLookup):
        return done
    gateway = await lookup(done.order_id)
    async with db.transaction() as session:
        again = await _apply_in(session, delivery_id, now, gateway=gateway)
    assert not isinstance(again, _NeedsLookup)  # with the gateway's answer, nothing is missing
    return again


async def _apply_in(
    session: AsyncSession, delivery_id: int, now: datetime, *, gateway: OrderLookup | None
) -> Applied | _NeedsLookup | None:
    locked = await session.get(WebhookDelivery, delivery_id, with_for_update=True, populate_existing=True)
    if locked is None or locked.applied_at is not None:
        return None
    order = await session.get(PaymentOrder, locked.merchant_order_id)
    if order is None:
        # Money for an order we never issued: kept, and flagged for a person.
        locked.applied_at, locked.outcome = now, "unknown_order"
        return Applied(delivery_id, "unknown_order")
    await set_tenant(session, order.business_id)
    attempt = await _attempt(session, order.business_id, order.order_id)
    intent = await _intent_for(session, attempt, locked) if _is_refund(locked) else None
    if _is_refund(locked) and intent is None and gateway is None:
        return _NeedsLookup(order.order_id)
    outcome = await _effect(session, locked, attempt, intent, now, gateway)
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


def _is_refund(delivery: WebhookDelivery) -> bool:
    return delivery.event == "refund" and delivery.status == "SUCCESS"


async def _effect(
    session: AsyncSession,
    delivery: WebhookDelivery,
    attempt: PaymentAttempt,
    intent: RefundIntent | None,
    now: datetime,
    gateway: OrderLookup | None,
) -> str:
    if delivery.event == "refund":
        return await _refund(session, delivery, attempt, intent, gateway, now)
    if await _known_refund(session, attempt.business_id, delivery):
        # A refund's signed data replayed as a payment: the money went out, not in.
        log.warning("kashier_refund_replayed_as_pay", order_id=attempt.order_id)
        return "flagged_refund_as_pay"
    if (delivery.amount_minor, delivery.currency) != (attempt.amount_minor, attempt.currency):
        # Never applied silently: the payment waits for a person.
        _flag(attempt, f"pay {delivery.status}: {delivery.amount_minor} {delivery.currency}")
        if delivery.status == "SUCCESS":
            await _ledger(session, attempt, delivery, LedgerKind.CAPTURE)
        return "flagged_amount"
    if delivery.status == "SUCCESS":
        return await _capture(session, delivery, attempt, now)
    if delivery.status == "PENDING":
        return await _pending(session, attempt, now)
    # FAILURE (or anything else): the attempt failed, unless money was already taken; the
    # hold stays until its expiry so the customer can try again.
    if attempt.status in (AttemptStatus.STARTED, AttemptStatus.PENDING):
        attempt.status = AttemptStatus.FAILED
    return f"pay_{delivery.status.lower()}"


def _flag(attempt: PaymentAttempt, what: str) -> None:
    attempt.status = AttemptStatus.FLAGGED
    attempt.review_reason = f"{what}, expected {attempt.amount_minor} {attempt.currency}"


async def _capture(
    session: AsyncSession, delivery: WebhookDelivery, attempt: PaymentAttempt, now: datetime
) -> str:
    await _ledger(session, attempt, delivery, LedgerKind.CAPTURE)
    attempt.status = AttemptStatus.PAID
    attempt.gateway_order_id = _gateway_order_id(delivery)
    if attempt.purpose is AttemptPurpose.BALANCE:
        return await _balance_paid(session, attempt)
    outcome = await holds.settle_payment(session, attempt.business_id, attempt.booking_id, now=now)
    if outcome == "reconfirmed":
        await holds.note_reason(session, attempt.business_id, attempt.booking_id, LATE_BUT_FREE)
    elif outcome != "confirmed":
        # Late money for a time someone else took, for a booking no longer wanted, or a
        # second capture of a paid booking: recorded above, and this money (never more)
        # given back.
        await _give_back(session, attempt, delivery.amount_minor, f"late_payment:{outcome}")
        await holds.note_reason(session, attempt.business_id, attempt.booking_id, LATE_REFUNDED[outcome])
        return f"refunded:{outcome}"
    return outcome


async def _balance_paid(session: AsyncSession, attempt: PaymentAttempt) -> str:
    """What was still due on a booking that stands, paid online: recorded, the booking as
    it is. Money beyond the price (the desk took some meanwhile, or two pages were paid)
    goes back from this attempt; all of it if the booking no longer stands."""
    booking = await booking_repository.get_booking(session, attempt.business_id, attempt.booking_id)
    assert booking is not None  # the attempt's foreign key
    found = (await ledger.totals(session, attempt.business_id, [booking.id])).get(booking.id, ledger.Totals())
    if booking.status in (BookingStatus.CANCELLED, BookingStatus.EXPIRED):
        await _give_back(session, attempt, None, f"late_payment:booking_{booking.status.value}")
        return f"refunded:booking_{booking.status.value}"
    surplus = min(found.paid_minor - booking.price_minor, attempt.amount_minor)
    if surplus > 0:
        await _give_back(session, attempt, surplus, "paid_beyond_price")
        return "balance_paid:surplus_refunded"
    return "balance_paid"


async def _give_back(session: AsyncSession, attempt: PaymentAttempt, amount: int | None, reason: str) -> None:
    """Refund from this very attempt (the booking's first paid attempt may be another)."""
    await refunds.request(
        session,
        attempt.business_id,
        attempt.booking_id,
        amount_minor=amount,
        reason=reason,
        attempt_id=attempt.id,
    )


def _gateway_order_id(delivery: WebhookDelivery) -> str | None:
    value = delivery.payload["data"].get("kashierOrderId")
    return value if isinstance(value, str) and 0 < len(value) <= 100 else None


async def _pending(session: AsyncSession, attempt: PaymentAttempt, now: datetime) -> str:
    if attempt.status not in (AttemptStatus.STARTED, AttemptStatus.PENDING):
        # A PENDING that arrives after its order failed (or was paid) is stale news: it
        # must not keep a dead booking's time for another day.
        return "pending_stale"
    if attempt.status is AttemptStatus.STARTED:
        attempt.status = AttemptStatus.PENDING
    hold = FAWRY_DEFAULT_HOLD
    ctx = await system_context(session, attempt.business_id)
    if ctx is not None:  # the method's own window, now that the money is on its way
        # (The attempt's method was one of the business's when its checkout was started.)
        minutes = ctx.rules.hold_minutes.get(cast(PaymentMethod, attempt.method))
        hold = timedelta(minutes=minutes) if minutes else hold
    extended = await holds.extend_hold(session, attempt.business_id, attempt.booking_id, now + hold)
    return "hold_extended" if extended else "pending_not_held"


async def _refund(
    session: AsyncSession,
    delivery: WebhookDelivery,
    attempt: PaymentAttempt,
    intent: RefundIntent | None,
    gateway: OrderLookup | None,
    now: datetime,
) -> str:
    if not _is_refund(delivery):
        return f"refund_{delivery.status.lower()}"
    if intent is not None:
        captured = await _total(session, attempt, LedgerKind.CAPTURE)
    elif isinstance(gateway, OrderFound) and _gateway_refunded(gateway, delivery):
        # The gateway's own total: this refund may overtake its payment's webhook.
        captured = gateway.captured_minor
    else:
        # Not a refund at the gateway: most likely a payment's signed data re-sent.
        log.warning("kashier_refund_not_at_gateway", order_id=attempt.order_id)
        return "flagged_unverified_refund"
    problem = await _refund_problem(session, attempt, delivery, captured)
    if problem is not None:
        attempt.status = AttemptStatus.FLAGGED
        attempt.review_reason = f"refund {delivery.amount_minor} {delivery.currency}: {problem}"
        return "flagged_refund"
    await _ledger(session, attempt, delivery, LedgerKind.REFUND)
    if intent is not None:
        intent.status = RefundStatus.SETTLED
    await _withdraw_if_refunded_in_full(session, attempt, now)
    return "refund_recorded"


async def _withdraw_if_refunded_in_full(
    session: AsyncSession, attempt: PaymentAttempt, now: datetime
) -> None:
    """A booking that stands because it was paid for (a deposit or the price up front)
    stands no more once all of that money went back (an owner's refund, one made in
    Kashier's dashboard): it is cancelled, its time freed, and it says why. A booking paid
    at the venue keeps standing: its online money was never its condition."""
    booking = await booking_repository.get_booking(session, attempt.business_id, attempt.booking_id)
    if booking is None or booking.deposit_minor == 0 or booking.status is not BookingStatus.CONFIRMED:
        return
    found = (await ledger.totals(session, attempt.business_id, [booking.id])).get(booking.id, ledger.Totals())
    if found.captured_minor == 0 or found.paid_minor > 0:
        return
    if await transitions.transition(session, booking, Action.CANCEL, Audit(None, now)):
        await holds.note_reason(session, attempt.business_id, attempt.booking_id, REFUNDED_IN_FULL)


async def _refund_problem(
    session: AsyncSession, attempt: PaymentAttempt, delivery: WebhookDelivery, captured: int
) -> str | None:
    """Why a refund cannot be recorded as it stands: another currency, or more given
    back than was taken."""
    if delivery.currency != attempt.currency:
        return f"the payment was in {attempt.currency}"
    after = await _total(session, attempt, LedgerKind.REFUND) + delivery.amount_minor
    if after > captured:
        return f"refunds would reach {after}, above the {captured} captured"
    return None


async def _total(session: AsyncSession, attempt: PaymentAttempt, kind: LedgerKind) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_minor), 0)).where(
            LedgerEntry.business_id == attempt.business_id,
            LedgerEntry.attempt_id == attempt.id,
            LedgerEntry.kind == kind,
        )
    )
    return int(total or 0)


async def _intent_for(
    session: AsyncSession, attempt: PaymentAttempt, delivery: WebhookDelivery
) -> RefundIntent | None:
    """The refund we asked for that this delivery reports (same gateway id and amount),
    locked: it is settled by this delivery."""
    stmt = select(RefundIntent).where(
        RefundIntent.business_id == attempt.business_id,
        RefundIntent.attempt_id == attempt.id,
        RefundIntent.gateway_transaction_id == delivery.transaction_id,
        RefundIntent.amount_minor == delivery.amount_minor,
    )
    return (await session.execute(stmt.limit(1).with_for_update())).scalar_one_or_none()


def _gateway_refunded(gateway: OrderFound, delivery: WebhookDelivery) -> bool:
    """The gateway lists this very refund: its id, operation, amount and currency."""
    return any(
        (tx.transaction_id, tx.operation, tx.status, tx.amount_minor, tx.currency)
        == (delivery.transaction_id, "refund", "SUCCESS", delivery.amount_minor, delivery.currency)
        for tx in gateway.transactions
    )


async def _known_refund(session: AsyncSession, business_id: uuid.UUID, delivery: WebhookDelivery) -> bool:
    """The delivery's transaction id is one of our refunds (recorded, or asked for)."""
    recorded = select(LedgerEntry.id).where(
        LedgerEntry.business_id == business_id,
        LedgerEntry.source == _source("refund", delivery),
    )
    asked = select(RefundIntent.id).where(
        RefundIntent.business_id == business_id,
        RefundIntent.gateway_transaction_id == delivery.transaction_id,
    )
    return (await session.execute(union_all(recorded, asked).limit(1))).first() is not None


def _source(event: str, delivery: WebhookDelivery) -> str:
    return f"kashier:{event}:{delivery.transaction_id}:{delivery.amount_minor}"


async def _ledger(
    session: AsyncSession, attempt: PaymentAttempt, delivery: WebhookDelivery, kind: LedgerKind
) -> None:
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
            source=_source(delivery.event, delivery),
        )
        .on_conflict_do_nothing(index_elements=["business_id", "source"])
    )
