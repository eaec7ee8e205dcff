"""Bookings as a person reads them: with the business's name and time zone, the service's
and the staff member's names, and the money. A customer's list spans businesses, so each
business is entered once (its rows are visible only inside it) and named from there."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking import listing
from booklnk.catalog import repository as catalog
from booklnk.flows import bookings as booking_flows
from booklnk.flows.bookings import BookingDetail
from booklnk.tenancy import repository as tenancy
from booklnk.tenancy.context import Actor, BusinessContext
from booklnk.tenancy.service import access_business

# The names of a business's services and staff are read in one page each: more than this
# many of either in one business is not a small business's booking page.
_NAMES_PAGE = 500


@dataclass(frozen=True, slots=True)
class Described:
    detail: BookingDetail
    business_name: str
    business_slug: str
    time_zone: str
    service_name: str
    staff_name: str


@dataclass(frozen=True, slots=True)
class _Names:
    business_name: str
    business_slug: str
    time_zone: str
    services: dict[uuid.UUID, str]
    staff: dict[uuid.UUID, str]


async def of_customer(
    session: AsyncSession, actor: Actor, window: listing.BookingFilter, *, limit: int
) -> list[Described]:
    """The actor's own bookings in `window`, across businesses, by start."""
    page = await listing.list_my_bookings(session, actor, window, cursor=None, limit=limit)
    details = await booking_flows.page_details(session, page)
    names: dict[uuid.UUID, _Names] = {}
    for business_id in dict.fromkeys(d.booking.business_id for d in details):
        ctx = await access_business(session, actor, business_id, require=None)
        names[business_id] = await _names(session, ctx)
    return [_described(d, names[d.booking.business_id]) for d in details]


async def one(session: AsyncSession, ctx: BusinessContext, booking_id: uuid.UUID) -> Described:
    """One booking of the business `ctx` entered (its customer, or its staff)."""
    return _described(await booking_flows.get(session, ctx, booking_id), await _names(session, ctx))


async def of_business_day(
    session: AsyncSession, ctx: BusinessContext, start: datetime, end: datetime
) -> tuple[list[Described], dict[uuid.UUID, listing.BookingCustomer]]:
    """The business's bookings starting in [start, end), with who each is for (staff only)."""
    window = listing.BookingFilter(starts_from=start, starts_before=end)
    return await of_business(session, ctx, window, limit=_NAMES_PAGE)


async def of_business(
    session: AsyncSession, ctx: BusinessContext, window: listing.BookingFilter, *, limit: int
) -> tuple[list[Described], dict[uuid.UUID, listing.BookingCustomer]]:
    """The business's bookings that `window` selects, by start, with who each is for."""
    page = await listing.list_business_bookings(session, ctx, window, cursor=None, limit=limit)
    named = await _names(session, ctx)
    return [_described(d, named) for d in await booking_flows.page_details(session, page)], page.customers


async def _names(session: AsyncSession, ctx: BusinessContext) -> _Names:
    business = await tenancy.get_business(session, ctx.business_id)
    assert business is not None  # (the context was entered from it)
    services, _ = await catalog.services_page(
        session, ctx.business_id, active_only=False, cursor=None, limit=_NAMES_PAGE
    )
    staff, _ = await catalog.staff_page(
        session, ctx.business_id, active_only=False, cursor=None, limit=_NAMES_PAGE
    )
    return _Names(
        business.name,
        business.slug,
        business.time_zone,
        {s.id: s.name for s in services},
        {s.id: s.display_name for s in staff},
    )


def _described(detail: BookingDetail, names: _Names) -> Described:
    booking = detail.booking
    return Described(
        detail,
        names.business_name,
        names.business_slug,
        names.time_zone,
        names.services.get(booking.service_id, ""),
        names.staff.get(booking.staff_id, ""),
    )
