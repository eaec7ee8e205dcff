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

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking import holds, messages, transitions
from booklnk.booking import repository as booking_repository
from booklnk.booking.lifecycle import Action
from booklnk.booking.models import BookingStatus
from booklnk.booking.repository import Audit
from booklnk.business_types.definition import PaymentMethod
from booklnk.db.database import Database, set_tenant
from booklnk.integrations import events as integration_events
from booklnk.payments import decisions, ledger, refunds, repository
from booklnk.payments.kashier.client import OrderFound, OrderLookup
from booklnk.payments.models import (
    AttemptPurpose,
    AttemptStatus,
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
    attempt = await repository.locked_attempt(session, order.business_id, order.order_id)
    report = _report(locked)
    intent = await repository.reported_intent(session, attempt, locked) if report.is_refund else None
    if report.is_refund and intent is None and gateway is None:
        return _NeedsLookup(order.order_id)
    if locked.event == "refund":
        outcome = await _refund(session, locked, report, attempt, intent, gateway, now)
    else:
        outcome = await _pay(session, locked, report, attempt, now)
    locked.applied_at, locked.outcome = now, outcome
    return Applied(delivery_id, outcome)


def _report(delivery: WebhookDelivery) -> decisions.Report:
    return decisions.Report(delivery.event, delivery.status, delivery.amount_minor, delivery.currency)


def _facts(attempt: PaymentAttempt) -> decisions.Attempt:
    return decisions.Attempt(
        amount_minor=attempt.amount_minor,
        currency=attempt.currency,
        open=attempt.status in (AttemptStatus.STARTED, AttemptStatus.PENDING),
        flagged=attempt.status is AttemptStatus.FLAGGED,
    )


async def _pay(
    session: AsyncSession,
    delivery: WebhookDelivery,
    report: decisions.Report,
    attempt: PaymentAttempt,
    now: datetime,
) -> str:
    replayed = await repository.is_our_refund(session, attempt.business_id, delivery)
    match decisions.on_pay(_facts(attempt), report, replayed_refund=replayed):
        case decisions.ReplayedRefund():
            log.warning("kashier_refund_replayed_as_pay", order_id=attempt.order_id)
            return "flagged_refund_as_pay"
        case decisions.FlagAmount(reason=reason, record=record):
            attempt.status, attempt.review_reason = AttemptStatus.FLAGGED, reason
            if record:
                await repository.record(session, attempt, delivery, LedgerKind.CAPTURE)
            return "flagged_amount"
        case decisions.Capture(mark_paid=mark_paid):
            return await _capture(session, delivery, attempt, now, mark_paid=mark_paid)
        case decisions.ExtendHold():
            return await _pending(session, attempt, now)
        case decisions.Stale(outcome=outcome):
            return outcome
        case decisions.Fail(mark_failed=mark_failed, outcome=outcome):
            if mark_failed:
                attempt.status = AttemptStatus.FAILED
            return outcome


async def _capture(
    session: AsyncSession,
    delivery: WebhookDelivery,
    attempt: PaymentAttempt,
    now: datetime,
    *,
    mark_paid: bool,
) -> str:
    await repository.record(session, attempt, delivery, LedgerKind.CAPTURE)
    await _tell_integrators(session, attempt, delivery, "payment.received", now)
    if mark_paid:
        attempt.status = AttemptStatus.PAID
    attempt.gateway_order_id = _gateway_order_id(delivery)
    if attempt.purpose is AttemptPurpose.BALANCE:
        # (A hold's payment is acknowledged by the booking's confirmation.)
        await _tell_money(session, attempt, delivery, "payment_received", now)
        return await _balance_paid(session, attempt)
    outcome = await holds.settle_payment(session, attempt.business_id, attempt.booking_id, now=now)
    if outcome == "reconfirmed":
        await holds.note_reason(session, attempt.business_id, attempt.booking_id, LATE_BUT_FREE)
    if outcome in ("confirmed", "reconfirmed"):
        # Its refunds may have been applied first (their webhooks overtook this one, or
        # reconciliation healed this one later): the end is the same in either order.
        await _withdraw_if_refunded_in_full(session, attempt, now)
    else:
        # Late money for a time someone else took, for a booking no longer wanted, or a
        # second capture of a paid booking: recorded above, and this money (never more)
        # given back.
        await _give_back(session, attempt, delivery.amount_minor, f"late_payment:{outcome}")
        await holds.note_reason(session, attempt.business_id, attempt.booking_id, LATE_REFUNDED[outcome])
        return f"refunded:{outcome}"
    return outcome


async def _balance_paid(session: AsyncSession, attempt: PaymentAttempt) -> str:
    """What was still due on a booking that stands, paid online: recorded, the booking as
    it is; money beyond the price goes back from this attempt, all of it if the booking no
    longer stands."""
    booking = await booking_repository.get_booking(session, attempt.business_id, attempt.booking_id)
    assert booking is not None  # the attempt's foreign key
    found = (await ledger.totals(session, attempt.business_id, [booking.id])).get(booking.id, ledger.Totals())
    if booking.status in (BookingStatus.CANCELLED, BookingStatus.EXPIRED):
        await _give_back(session, attempt, None, f"late_payment:booking_{booking.status.value}")
        return f"refunded:booking_{booking.status.value}"
    surplus = decisions.balance_surplus(
        paid_minor=found.paid_minor, price_minor=booking.price_minor, attempt_minor=attempt.amount_minor
    )
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
    report: decisions.Report,
    attempt: PaymentAttempt,
    intent: RefundIntent | None,
    gateway: OrderLookup | None,
    now: datetime,
) -> str:
    vouched: int | None = None
    if intent is not None:
        vouched = await repository.ledger_total(session, attempt, LedgerKind.CAPTURE)
    elif isinstance(gateway, OrderFound) and _gateway_refunded(gateway, delivery):
        vouched = gateway.captured_minor
    refunded = await repository.ledger_total(session, attempt, LedgerKind.REFUND)
    match decisions.on_refund(_facts(attempt), report, refunded_minor=refunded, vouched_capture=vouched):
        case decisions.NotMade(outcome=outcome):
            return outcome
        case decisions.Unverified():
            log.warning("kashier_refund_not_at_gateway", order_id=attempt.order_id)
            return "flagged_unverified_refund"
        case decisions.FlagRefund(reason=reason):
            attempt.status, attempt.review_reason = AttemptStatus.FLAGGED, reason
            return "flagged_refund"
        case decisions.RecordRefund():
            await repository.record(session, attempt, delivery, LedgerKind.REFUND)
            await _tell_money(session, attempt, delivery, "refund_sent", now)
            await _tell_integrators(session, attempt, delivery, "refund.sent", now)
            if intent is not None:
                intent.status = RefundStatus.SETTLED
            await _withdraw_if_refunded_in_full(session, attempt, now)
            return "refund_recorded"


async def _tell_money(
    session: AsyncSession,
    attempt: PaymentAttempt,
    delivery: WebhookDelivery,
    template: messages.Money,
    now: datetime,
) -> None:
    """The customer told of the money this delivery moved, once (keyed by its ledger entry)."""
    await messages.tell_money(
        session,
        attempt.business_id,
        attempt.booking_id,
        template,
        amount_minor=delivery.amount_minor,
        key=repository.source(delivery.event, delivery),
        now=now,
    )


async def _tell_integrators(
    session: AsyncSession, attempt: PaymentAttempt, delivery: WebhookDelivery, event_type: str, now: datetime
) -> None:
    """The money this delivery moved, to the business's webhook endpoints that take it
    (once: a delivery is applied once, with its ledger entry)."""
    data = {
        "booking_id": str(attempt.booking_id),
        "business_id": str(attempt.business_id),
        "order_id": attempt.order_id,
        "amount_minor": delivery.amount_minor,
        "currency": attempt.currency,
        "method": attempt.method,
        "purpose": attempt.purpose.value,
        "transaction_id": delivery.transaction_id,
    }
    await integration_events.record(session, attempt.business_id, event_type, data, now=now)


async def _withdraw_if_refunded_in_full(
    session: AsyncSession, attempt: PaymentAttempt, now: datetime
) -> None:
    """A booking confirmed by its payment is cancelled, its time freed and its reason said,
    once all that money went back (an owner's refund, one made in Kashier's dashboard)."""
    booking = await booking_repository.get_booking(session, attempt.business_id, attempt.booking_id)
    if booking is None:
        return
    found = (await ledger.totals(session, attempt.business_id, [booking.id])).get(booking.id, ledger.Totals())
    withdraws = decisions.withdraws(
        deposit_minor=booking.deposit_minor,
        confirmed=booking.status is BookingStatus.CONFIRMED,
        captured_minor=found.captured_minor,
        paid_minor=found.paid_minor,
    )
    if withdraws and await transitions.transition(session, booking, Action.CANCEL, Audit(None, now)):
        await holds.note_reason(session, attempt.business_id, attempt.booking_id, REFUNDED_IN_FULL)


def _gateway_refunded(gateway: OrderFound, delivery: WebhookDelivery) -> bool:
    """The gateway lists this very refund: its id, operation, amount and currency."""
    return any(
        (tx.transaction_id, tx.operation, tx.status, tx.amount_minor, tx.currency)
        == (delivery.transaction_id, "refund", "SUCCESS", delivery.amount_minor, delivery.currency)
        for tx in gateway.transactions
    )
