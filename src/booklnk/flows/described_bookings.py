"""Bookings as a person reads them: with the business's name and time zone, the service's
and the staff member's names, and the money. A customer's list spans businesses, so each
business is entered once (its rows are visible only inside it) and named from there."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking import listing
from booklnk.booking.classes import enrolment, sessions
from booklnk.booking.classes.models import WaitlistStatus
from booklnk.booking.errors import BookingNotFound
from booklnk.catalog import repository as catalog
from booklnk.flows import bookings as booking_flows
from booklnk.flows.bookings import BookingDetail
from booklnk.payments import ledger
from booklnk.payments.models import AttemptStatus, LedgerKind, RefundStatus
from booklnk.tenancy import repository as tenancy
from booklnk.tenancy.context import Actor, BusinessContext
from booklnk.tenancy.service import access_business

# The names of a business's services and staff are read in one page each: more than this
# many of either in one business is not a small business's booking page.
_NAMES_PAGE = 500
# Where a customer's waiting places are looked for: the class businesses they have booked
# in (a waitlist entry is readable only inside its business, so each is entered in turn),
# their sessions of the coming weeks that have a line, and a line's first places.
_WAITING_BUSINESSES = 20
_WAITING_DAYS = sessions.MAX_WINDOW_DAYS
_WAITING_SESSIONS = 100
_LINE_PAGE = 200


@dataclass(frozen=True, slots=True)
class Described:
    detail: BookingDetail
    business_name: str
    business_slug: str
    time_zone: str
    service_name: str
    staff_name: str


@dataclass(frozen=True, slots=True)
class MoneyLine:
    """One movement of a booking's money, as a receipt lists it: `method` is an online
    method (card, wallet, fawry) or a desk one (cash, card_terminal); `reference` is the
    gateway's (none for the desk); a refund not `settled` is on its way back."""

    kind: Literal["payment", "refund"]
    method: str
    amount_minor: int
    at: datetime
    reference: str | None
    settled: bool


@dataclass(frozen=True, slots=True)
class Receipt:
    found: Described
    lines: list[MoneyLine]


@dataclass(frozen=True, slots=True)
class WaitingPlace:
    """A customer's place in a full class session's line (1 = next to get a seat)."""

    business_id: uuid.UUID
    business_name: str
    time_zone: str
    session_id: uuid.UUID
    entry_id: uuid.UUID
    service_name: str
    starts_at: datetime
    place: int


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


async def receipt(session: AsyncSession, ctx: BusinessContext, booking_id: uuid.UUID) -> Receipt:
    """A booking's receipt, for its customer only (staff of the business read the desk's
    page instead): each payment and refund, online and at the desk, by date. 404
    `booking_not_found` for anyone else, the same answer as for a booking that is not."""
    found = await one(session, ctx, booking_id)
    if found.detail.booking.customer_id != ctx.actor.user_id:
        raise BookingNotFound("No such booking.")
    money = await booking_flows.payments_of(session, ctx, booking_id)
    return Receipt(found, sorted(_lines(money), key=lambda line: line.at))


def _lines(money: ledger.Balance) -> list[MoneyLine]:
    # An attempt's money moved when the gateway said so: its last change, not its start.
    methods = {a.id: a.method for a in money.attempts}
    lines = [
        MoneyLine("payment", a.method, a.amount_minor, a.updated_at, a.gateway_order_id or a.order_id, True)
        for a in money.attempts
        if a.status is AttemptStatus.PAID
    ]
    lines += [
        MoneyLine(
            "refund",
            methods.get(r.attempt_id, ""),
            r.amount_minor,
            r.updated_at,
            r.gateway_transaction_id,
            r.status is RefundStatus.SETTLED,
        )
        for r in money.refunds
        if r.status is not RefundStatus.REFUSED
    ]
    lines += [
        MoneyLine(
            "refund" if e.kind is LedgerKind.REFUND else "payment",
            e.desk_method.value if e.desk_method else "",
            e.amount_minor,
            e.created_at,
            None,
            True,
        )
        for e in money.desk
        if e.kind in (LedgerKind.CAPTURE, LedgerKind.REFUND)
    ]
    return lines


async def waiting_of_customer(session: AsyncSession, actor: Actor, *, now: datetime) -> list[WaitingPlace]:
    """The actor's places in the lines of coming class sessions, by start, in the
    businesses where they wait (their own entries name them)."""
    waited_in = await enrolment.businesses_waited_in(session, actor, limit=_WAITING_BUSINESSES)
    places: list[WaitingPlace] = []
    for business_id in waited_in:
        ctx = await access_business(session, actor, business_id, require=None)
        if ctx.rules.mode == "class":
            places += await _waiting_in(session, ctx, now)
    return sorted(places, key=lambda found: found.starts_at)


async def _waiting_in(session: AsyncSession, ctx: BusinessContext, now: datetime) -> list[WaitingPlace]:
    page = await sessions.list_sessions(
        session, ctx, start=now, end=now + timedelta(days=_WAITING_DAYS), limit=_WAITING_SESSIONS
    )
    lined = [view.session for view in page.views if view.waiting > 0]
    if not lined:
        return []
    names = await _names(session, ctx)
    places = []
    for class_session in lined:
        line, _ = await enrolment.list_waitlist(session, ctx, class_session.id, cursor=None, limit=_LINE_PAGE)
        waiting = [entry for entry in line if entry.status is WaitlistStatus.WAITING]
        places += [
            WaitingPlace(
                ctx.business_id,
                names.business_name,
                names.time_zone,
                class_session.id,
                entry.id,
                names.services.get(class_session.service_id, ""),
                class_session.starts_at,
                place,
            )
            for place, entry in enumerate(waiting, start=1)
            if entry.customer_id == ctx.actor.user_id
        ]
    return places


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
