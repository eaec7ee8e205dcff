"""The customer's browser comes back from the payment page: show, never decide."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking import repository as booking_repository
from booklnk.db.database import set_tenant
from booklnk.kernel.errors import NotFound, ValidationFailed
from booklnk.payments.errors import WebhookRejected
from booklnk.payments.kashier.signing import verify_redirect
from booklnk.payments.models import PaymentAttempt, PaymentOrder
from booklnk.payments.schemas import PaymentReturnOut


class RedirectRejected(WebhookRejected):
    code = "redirect_rejected"


async def describe(session: AsyncSession, api_key: str, params: Mapping[str, str]) -> PaymentReturnOut:
    """The booking as it stands now, for a verified redirect (401 otherwise). The redirect's
    own `paymentStatus` is only echoed: the webhook, not the browser, moves money."""
    for name in ("merchantOrderId", "signature"):
        if not params.get(name):
            raise ValidationFailed.on(f"query.{name}", "required", "Not a Kashier redirect.")
    if not verify_redirect(api_key, params):
        raise RedirectRejected("The redirect's signature does not verify.")
    order_id = params.get("merchantOrderId", "")
    order = await session.get(PaymentOrder, order_id)
    if order is None:
        raise NotFound("No such payment.")
    await set_tenant(session, order.business_id)
    stmt = select(PaymentAttempt).where(
        PaymentAttempt.business_id == order.business_id, PaymentAttempt.order_id == order_id
    )
    attempt = (await session.execute(stmt)).scalar_one()
    booking = await booking_repository.get_booking(session, order.business_id, attempt.booking_id)
    if booking is None:
        raise NotFound("No such payment.")
    return PaymentReturnOut(
        order_id=order_id,
        payment_status=params.get("paymentStatus", ""),
        attempt_status=attempt.status,
        booking_id=booking.id,
        booking_status=booking.status,
    )
