"""A pay link opened by its customer: the page that says what is being paid for, and the
checkout it starts (the same use case as the API's checkout, as the booking's customer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking import service as bookings
from booklnk.booking.models import Booking, BookingStatus
from booklnk.catalog import repository as catalog
from booklnk.db.database import set_tenant
from booklnk.payments import checkout, pay_links
from booklnk.payments.errors import BookingNotPayable, PayLinkNotFound
from booklnk.payments.kashier.config import KashierConfig
from booklnk.payments.pay_links import PayClaim
from booklnk.tenancy import repository as tenancy
from booklnk.tenancy.context import Actor, BusinessContext
from booklnk.tenancy.service import access_business
from booklnk.tenancy.system import system_context

Method = Literal["card", "wallet", "fawry"]
_ONLINE: tuple[Method, ...] = ("card", "wallet", "fawry")


@dataclass(frozen=True, slots=True)
class PayPage:
    business_name: str
    service_name: str
    starts_at: datetime
    time_zone: str
    until: datetime
    methods: list[Method]  # the service's online methods, the one chosen at booking first


async def describe(session: AsyncSession, key: bytes, token: str, *, now: datetime) -> PayPage:
    """What the link pays for: 404 `pay_link_not_found` for a link not ours, 410
    `pay_link_expired` past its hold, 409 `booking_not_payable` once the booking takes no
    payment (paid meanwhile, or cancelled)."""
    claim = pay_links.read(key, token, now=now)
    ctx, booking = await _held(session, claim)
    service = await catalog.get_service(session, ctx.business_id, booking.service_id)
    business = await tenancy.get_business(session, ctx.business_id)
    accepted = await checkout.accepted_methods(session, ctx, booking.service_id)
    allowed = [m for m in _ONLINE if m in accepted]
    chosen = [m for m in allowed if m == booking.payment_method]
    return PayPage(
        business_name=business.name if business is not None else "",
        service_name=service.name if service is not None else "",
        starts_at=booking.starts_at,
        time_zone=ctx.time_zone,
        until=claim.until,
        methods=chosen + [m for m in allowed if m not in chosen],
    )


async def pay(
    session: AsyncSession,
    key: bytes,
    token: str,
    method: Method,
    *,
    kashier: KashierConfig,
    callbacks: checkout.Callbacks,
    display: str,
    now: datetime,
) -> str:
    """A checkout for the link's booking, as its customer: the hosted page's URL."""
    claim = pay_links.read(key, token, now=now)
    ctx, _ = await _held(session, claim)
    started = await checkout.start(
        session,
        ctx,
        claim.booking_id,
        method,
        kashier=kashier,
        callbacks=callbacks,
        now=now,
        display=display,
        method_field="query.method",  # (the page's buttons post ?method=)
    )
    return started.url


async def _held(session: AsyncSession, claim: PayClaim) -> tuple[BusinessContext, Booking]:
    """The booking, in its business as its customer (a pay link acts for nobody else)."""
    await set_tenant(session, claim.business_id)
    system = await system_context(session, claim.business_id)
    if system is None:
        raise PayLinkNotFound("This pay link's business is gone.")
    booking = await bookings.get_booking(session, system, claim.booking_id)
    if booking.status is not BookingStatus.HELD or booking.customer_id is None:
        raise BookingNotPayable(f"A {booking.status.value} booking takes no payment here.")
    ctx = await access_business(session, Actor(booking.customer_id), claim.business_id, require=None)
    return ctx, booking
