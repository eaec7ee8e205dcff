"""Refunds: decided here, sent by the worker, settled by Kashier's refund webhook.

An intent is recorded (in the transaction that decides it) before Kashier is called, and
the call is made outside any transaction. Kashier has no idempotency key for refunds, so
an intent found `sending` (a call may have gone out and its answer been lost) is first
looked up at the gateway: a refund of that amount not yet claimed by another intent is
taken as this one's; only otherwise is the call made again. The attempt row is locked
while an intent is added, so intents never add up to more than was captured.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.audit import log as audit
from booklnk.db.database import Database
from booklnk.db.jobs import GATEWAY_QUEUE, Job, enqueue
from booklnk.kernel.errors import Conflict, ValidationFailed
from booklnk.payments import decisions
from booklnk.payments.kashier.client import (
    KashierClient,
    KashierError,
    OrderFound,
    RefundPending,
    RefundRefused,
)
from booklnk.payments.models import (
    AttemptStatus,
    LedgerEntry,
    LedgerKind,
    PaymentAttempt,
    RefundIntent,
    RefundStatus,
)

SEND_REFUND = "payments.send_refund"


class NothingToRefund(Conflict):
    code = "nothing_to_refund"


@dataclass(frozen=True, slots=True)
class Refundable:
    attempt: PaymentAttempt
    captured: int
    promised: int  # intents not refused, and refunds made at the gateway without one

    @property
    def left(self) -> int:
        return self.captured - self.promised


async def refundable(
    session: AsyncSession, business_id: uuid.UUID, booking_id: uuid.UUID, attempt_id: uuid.UUID | None = None
) -> Refundable | None:
    """The booking's paid attempt (the given one, else its first), locked, with what it
    captured and what is promised back."""
    found = await _paid_attempts(session, business_id, booking_id, attempt_id, first_only=True)
    return found[0] if found else None


async def refundables(
    session: AsyncSession, business_id: uuid.UUID, booking_id: uuid.UUID
) -> list[Refundable]:
    """Every paid attempt of the booking (a deposit, then what was still due), oldest
    first, locked, each with what it captured and what is promised back."""
    return await _paid_attempts(session, business_id, booking_id, None, first_only=False)


async def _paid_attempts(
    session: AsyncSession,
    business_id: uuid.UUID,
    booking_id: uuid.UUID,
    attempt_id: uuid.UUID | None,
    *,
    first_only: bool,
) -> list[Refundable]:
    stmt = (
        select(PaymentAttempt)
        .where(
            PaymentAttempt.business_id == business_id,
            PaymentAttempt.booking_id == booking_id,
            PaymentAttempt.status.in_([AttemptStatus.PAID, AttemptStatus.FLAGGED]),
        )
        .order_by(PaymentAttempt.created_at, PaymentAttempt.id)
        .with_for_update()
    )
    if attempt_id is not None:
        stmt = stmt.where(PaymentAttempt.id == attempt_id)
    if first_only:
        stmt = stmt.limit(1)
    return [await _with_sums(session, attempt) for attempt in (await session.execute(stmt)).scalars()]


async def _with_sums(session: AsyncSession, attempt: PaymentAttempt) -> Refundable:
    business_id = attempt.business_id
    captured = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_minor), 0)).where(
            LedgerEntry.business_id == business_id,
            LedgerEntry.attempt_id == attempt.id,
            LedgerEntry.kind == LedgerKind.CAPTURE,
        )
    )
    promised = await session.scalar(
        select(func.coalesce(func.sum(RefundIntent.amount_minor), 0)).where(
            RefundIntent.business_id == business_id,
            RefundIntent.attempt_id == attempt.id,
            RefundIntent.status != RefundStatus.REFUSED,
        )
    )
    # Refunds the gateway made that no intent of ours asked for (Kashier's dashboard): they
    # are in the ledger, and what they gave back cannot be given back again.
    ours = select(RefundIntent.id).where(
        RefundIntent.business_id == business_id,
        RefundIntent.attempt_id == attempt.id,
        LedgerEntry.source
        == func.concat(
            "kashier:refund:", RefundIntent.gateway_transaction_id, ":", RefundIntent.amount_minor
        ),
    )
    elsewhere = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_minor), 0)).where(
            LedgerEntry.business_id == business_id,
            LedgerEntry.attempt_id == attempt.id,
            LedgerEntry.kind == LedgerKind.REFUND,
            ~ours.exists(),
        )
    )
    return Refundable(attempt, int(captured or 0), int(promised or 0) + int(elsewhere or 0))


async def request(
    session: AsyncSession,
    business_id: uuid.UUID,
    booking_id: uuid.UUID,
    *,
    amount_minor: int | None,
    reason: str,
    attempt_id: uuid.UUID | None = None,
    field: str = "body.amount_minor",
    by: uuid.UUID | None = None,
) -> RefundIntent | None:
    """Record a refund intent (all that is left when `amount_minor` is None) and enqueue
    its sending; None when the booking has nothing captured to give back. The audit log
    names `by` (None: the policy, applying a cancellation or a late payment)."""
    found = await refundable(session, business_id, booking_id, attempt_id)
    if (found is None or found.left <= 0) and amount_minor is not None:
        raise NothingToRefund("Nothing captured is left to refund on this booking.")
    try:
        amount = decisions.refund_amount(asked_minor=amount_minor, left_minor=found.left if found else 0)
    except decisions.ExceedsLeft:
        assert found is not None  # nothing found raised above
        raise ValidationFailed.on(
            field,
            "exceeds_captured",
            f"At most {found.left} can still be refunded ({found.captured} captured).",
        ) from None
    if amount is None or found is None:
        return None
    intent = RefundIntent(
        business_id=business_id,
        id=uuid.uuid4(),
        booking_id=booking_id,
        attempt_id=found.attempt.id,
        amount_minor=amount,
        currency=found.attempt.currency,
        reason=reason,
        status=RefundStatus.REQUESTED,
    )
    session.add(intent)
    await session.flush()
    await enqueue_sending(session, intent, found.attempt.order_id)
    details = {"amount_minor": amount, "currency": intent.currency, "reason": reason}
    subject = ("refund", intent.id)
    await audit.record(
        session, business_id, by, "refund.requested", subject=subject, details=details, booking_id=booking_id
    )
    return intent


async def enqueue_sending(session: AsyncSession, intent: RefundIntent, order_id: str) -> None:
    # The order's lock: a refund is sent in turn with the order's webhook applications.
    args = {"business_id": str(intent.business_id), "intent_id": str(intent.id)}
    await enqueue(session, Job(SEND_REFUND, args, lock=f"order:{order_id}", queue=GATEWAY_QUEUE))


async def send(db: Database, client: KashierClient, business_id: uuid.UUID, intent_id: uuid.UUID) -> str:
    """The worker's half: call Kashier at most once per intent. Returns the outcome."""
    async with db.transaction(tenant_id=business_id) as session:
        intent = await session.get(RefundIntent, (business_id, intent_id), with_for_update=True)
        if intent is None or intent.status not in (RefundStatus.REQUESTED, RefundStatus.SENDING):
            return "done_before"
        attempt = await session.get(PaymentAttempt, (business_id, intent.attempt_id))
        assert attempt is not None  # the foreign key guarantees it
        retrying = intent.status is RefundStatus.SENDING
        intent.status = RefundStatus.SENDING  # committed before the call goes out
        order_id, amount, currency, reason = (
            attempt.order_id,
            intent.amount_minor,
            intent.currency,
            intent.reason,
        )
        claimed = await _claimed_transactions(session, business_id, intent.attempt_id)
    transaction_id = await _already_refunded(client, order_id, amount, claimed) if retrying else None
    if transaction_id is None:
        try:
            result = await client.refund(order_id, amount, currency, reason=reason)
        except KashierError:
            raise  # the job retries; the intent stays `sending`, so the retry looks first
        if isinstance(result, RefundRefused):
            return await _record(db, business_id, intent_id, RefundStatus.REFUSED, None, result.message)
        if result.transaction_id is None:
            # Pending without a name: the retry finds it in the order lookup, never resends.
            raise KashierError(f"refund of order {order_id} pending without a transaction id")
        transaction_id = result.transaction_id
        if isinstance(result, RefundPending):
            # Accepted, not yet done: its refund webhook (or a lookup) settles it.
            return await _record(
                db, business_id, intent_id, RefundStatus.ACCEPTED, transaction_id, "pending at the gateway"
            )
    return await _record(db, business_id, intent_id, RefundStatus.ACCEPTED, transaction_id, None)


async def _claimed_transactions(
    session: AsyncSession, business_id: uuid.UUID, attempt_id: uuid.UUID
) -> set[str]:
    stmt = select(RefundIntent.gateway_transaction_id).where(
        RefundIntent.business_id == business_id,
        RefundIntent.attempt_id == attempt_id,
        RefundIntent.gateway_transaction_id.is_not(None),
    )
    return {t for t in (await session.execute(stmt)).scalars() if t}


async def _already_refunded(
    client: KashierClient, order_id: str, amount: int, claimed: set[str]
) -> str | None:
    """A refund of `amount` at the gateway that no intent of ours has claimed yet."""
    found = await client.lookup_order(order_id)
    if not isinstance(found, OrderFound):
        return None
    return decisions.unclaimed_refund(found.transactions, amount, claimed)


async def _record(
    db: Database,
    business_id: uuid.UUID,
    intent_id: uuid.UUID,
    status: RefundStatus,
    transaction_id: str | None,
    message: str | None,
) -> str:
    async with db.transaction(tenant_id=business_id) as session:
        intent = await session.get(RefundIntent, (business_id, intent_id), with_for_update=True)
        assert intent is not None
        intent.status, intent.gateway_transaction_id, intent.gateway_message = status, transaction_id, message
    return status.value
