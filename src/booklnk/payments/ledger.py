"""What a booking's money looks like: derived from the ledger, never stored as a balance."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.payments.models import LedgerEntry, LedgerKind, PaymentAttempt, RefundIntent


@dataclass(frozen=True, slots=True)
class Balance:
    captured_minor: int
    refunded_minor: int
    attempts: list[PaymentAttempt]
    refunds: list[RefundIntent]

    @property
    def paid_minor(self) -> int:
        return self.captured_minor - self.refunded_minor


async def balance(session: AsyncSession, business_id: uuid.UUID, booking_id: uuid.UUID) -> Balance:
    rows = await session.execute(
        select(LedgerEntry.kind, func.sum(LedgerEntry.amount_minor))
        .where(LedgerEntry.business_id == business_id, LedgerEntry.booking_id == booking_id)
        .group_by(LedgerEntry.kind)
    )
    sums = {kind: int(total) for kind, total in rows}
    attempts = (
        await session.execute(
            select(PaymentAttempt)
            .where(PaymentAttempt.business_id == business_id, PaymentAttempt.booking_id == booking_id)
            .order_by(PaymentAttempt.created_at)
        )
    ).scalars()
    refunds = (
        await session.execute(
            select(RefundIntent)
            .where(RefundIntent.business_id == business_id, RefundIntent.booking_id == booking_id)
            .order_by(RefundIntent.created_at)
        )
    ).scalars()
    return Balance(
        int(sums.get(LedgerKind.CAPTURE, 0)),
        int(sums.get(LedgerKind.REFUND, 0)),
        list(attempts),
        list(refunds),
    )
