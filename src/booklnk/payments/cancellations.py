"""What a cancellation gives back: the policy's share of what is left of what was paid
online, across every paid attempt (a deposit, then what was still due)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.payments import refunds
from booklnk.payments.decisions import refund_share, spread


async def refund_cancellation(
    session: AsyncSession, business_id: uuid.UUID, booking_id: uuid.UUID, *, by: str, refund_percent: int
) -> int | None:
    """Record the refunds a cancellation is owed, in the cancelling transaction: the
    policy's share of all that is left to refund, one intent per paid attempt it is taken
    from. The amount, or None when nothing was paid online or the policy gives nothing."""
    if refund_percent <= 0:
        return None
    paid = await refunds.refundables(session, business_id, booking_id)
    amount = refund_share(sum(p.left for p in paid), refund_percent)
    if amount <= 0:
        return None
    for found, part in zip(paid, spread(amount, [p.left for p in paid]), strict=True):
        if part > 0:
            await refunds.request(
                session,
                business_id,
                booking_id,
                amount_minor=part,
                reason=f"cancelled_by_{by}",
                attempt_id=found.attempt.id,
            )
    return amount
