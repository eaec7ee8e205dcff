"""The rows settlement reads and the ledger rows it writes: an order's attempt (locked),
its ledger sums, the refund intent a delivery reports, whether a transaction id is one of
our refunds. A ledger row's source names the gateway's transaction, so the same money is
recorded once however often it is reported."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, union_all
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.payments.models import LedgerEntry, LedgerKind, PaymentAttempt, RefundIntent, WebhookDelivery


async def locked_attempt(session: AsyncSession, business_id: uuid.UUID, order_id: str) -> PaymentAttempt:
    stmt = (
        select(PaymentAttempt)
        .where(PaymentAttempt.business_id == business_id, PaymentAttempt.order_id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one()


async def ledger_total(session: AsyncSession, attempt: PaymentAttempt, kind: LedgerKind) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_minor), 0)).where(
            LedgerEntry.business_id == attempt.business_id,
            LedgerEntry.attempt_id == attempt.id,
            LedgerEntry.kind == kind,
        )
    )
    return int(total or 0)


async def reported_intent(
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


async def is_our_refund(session: AsyncSession, business_id: uuid.UUID, delivery: WebhookDelivery) -> bool:
    """The delivery's transaction id is one of our refunds (recorded, or asked for)."""
    recorded = select(LedgerEntry.id).where(
        LedgerEntry.business_id == business_id,
        LedgerEntry.source == source("refund", delivery),
    )
    asked = select(RefundIntent.id).where(
        RefundIntent.business_id == business_id,
        RefundIntent.gateway_transaction_id == delivery.transaction_id,
    )
    return (await session.execute(union_all(recorded, asked).limit(1))).first() is not None


def source(event: str, delivery: WebhookDelivery) -> str:
    return f"kashier:{event}:{delivery.transaction_id}:{delivery.amount_minor}"


async def record(
    session: AsyncSession, attempt: PaymentAttempt, delivery: WebhookDelivery, kind: LedgerKind
) -> None:
    """The delivery's money in the ledger, once (its source is unique per business)."""
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
            source=source(delivery.event, delivery),
        )
        .on_conflict_do_nothing(index_elements=["business_id", "source"])
    )
