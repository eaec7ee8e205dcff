"""Whom a booking is for. Customers book for themselves; a business's staff may book for
one of that business's customers, that is an account that has booked there before
(whatever became of that booking). Anyone else they book by name (`guest_name`).

Until the business keeps customer records of its own, its bookings are the only link
between an account and a business; staff must not be able to attach bookings to any
account whose id they learn.
"""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking.errors import PhoneRequired
from booklnk.booking.models import Booking
from booklnk.kernel.errors import ValidationFailed
from booklnk.tenancy.context import BusinessContext
from booklnk.tenancy.models import User

# Built once; ix_booking_customer (customer_id, starts_at) finds the rows.
_HAS_BOOKED = select(
    exists().where(
        Booking.customer_id == bindparam("customer_id"), Booking.business_id == bindparam("business_id")
    )
)


_HAS_PHONE = select(User.phone.is_not(None)).where(User.id == bindparam("user_id"))


async def customer_for(
    session: AsyncSession, ctx: BusinessContext, customer_id: uuid.UUID | None
) -> uuid.UUID:
    """The account a booking is for: the caller's own (403 `phone_required` when the
    business asks for a proven number and the caller has none), or (staff only) one of the
    business's customers; else 422 naming `body.customer_id`, the same answer whether the
    account exists or not."""
    if customer_id is None or customer_id == ctx.actor.user_id:
        if (
            ctx.require_phone
            and not (await session.execute(_HAS_PHONE, {"user_id": ctx.actor.user_id})).scalar()
        ):
            raise PhoneRequired(
                "This business asks for a proven mobile number before booking: add one at /v1/me/phone."
            )
        return ctx.actor.user_id
    if not ctx.is_staff:
        raise ValidationFailed.on("body.customer_id", "not_allowed", "Only staff may book for someone else.")
    params = {"customer_id": customer_id, "business_id": ctx.business_id}
    if not (await session.execute(_HAS_BOOKED, params)).scalar_one():
        raise ValidationFailed.on(
            "body.customer_id",
            "unknown_customer",
            "No customer of this business has that id (an account becomes one by booking here).",
        )
    return customer_id
