"""What a cancellation gives back: the policy's share of what is left of the payment."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.payments import refunds
from booklnk.payments.models import RefundIntent


def refund_share(left_minor: int, percent: int) -> int:
    """`percent` of what can still be refunded, in whole piasters (rounded down)."""
    return left_minor * percent // 100


async def refund_cancellation(
    session: AsyncSession, business_id: uuid.UUID, booking_id: uuid.UUID, *, by: str, refund_percent: int
) -> RefundIntent | None:
    """Record the refund a cancellation is owed, in the cancelling transaction; None when
    nothing was paid online or the policy gives nothing back."""
    if refund_percent <= 0:
        return None
    found = await refunds.refundable(session, business_id, booking_id)
    amount = refund_share(found.left, refund_percent) if found is not None else 0
    if found is None or amount <= 0:
        return None
    return await refunds.request(
        session,
        business_id,
        booking_id,
        amount_minor=amount,
        reason=f"cancelled_by_{by}",
        attempt_id=found.attempt.id,
    )
