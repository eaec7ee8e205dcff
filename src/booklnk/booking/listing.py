"""Reading bookings in bulk: a business's calendar, a customer's own bookings across
businesses, one booking as an iCalendar file, and each staff member's private feed.

Who sees what:
* The business listing is for staff and owners, and staff see every booking of the
  business, not only their own: they run the front desk and book on customers' behalf.
* A customer's own listing runs with no tenant set; the `booking_own_read` policy lets
  PostgreSQL return their bookings from every business and nothing else (their
  resources are then read inside each booking's business, see
  _resources_across_businesses).
* The feed is public by secret URL. The token starts with its business id, so the route
  enters that tenant before reading anything and every query, the token lookup
  included, stays under ordinary tenant row-level security: no policy exception, no
  SECURITY DEFINER function. Only the token's SHA-256 is stored.

Each listed booking comes with its customer's name and proven phone, read by the page's
own query (an outer join on `app_user`, a global table with no row-level security, so it
reads alike inside a tenant and in a customer's own listing): never a query per booking.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from booklnk.booking import occupancy, service
from booklnk.booking.feed_models import CalendarFeed
from booklnk.booking.lifecycle import BLOCKING
from booklnk.booking.models import Booking, BookingStatus
from booklnk.catalog import repository as catalog_repository
from booklnk.catalog import service as catalog
from booklnk.catalog.models import Service, StaffMember
from booklnk.customers.models import CustomerRecord
from booklnk.db.database import set_tenant
from booklnk.db.pagination import fetch_rows_page
from booklnk.kernel import ics
from booklnk.kernel.errors import NotFound, ValidationFailed
from booklnk.tenancy import credentials
from booklnk.tenancy import repository as tenancy_repository
from booklnk.tenancy.context import Actor, BusinessContext
from booklnk.tenancy.errors import InsufficientRole
from booklnk.tenancy.models import User

FEED_PAST = timedelta(days=30)
FEED_AHEAD = timedelta(days=90)
FEED_MAX_EVENTS = 5000  # a bound on one response; far above 120 days of one person's work
FEED_REFRESH_MINUTES = 60
_FEED_TOKEN = re.compile(r"(?P<business>[0-9a-f]{32})[A-Za-z0-9_-]{43}")
_ICS_STATUS: dict[BookingStatus, ics.EventStatus] = {
    BookingStatus.HELD: "TENTATIVE",
    BookingStatus.CANCELLED: "CANCELLED",
    BookingStatus.EXPIRED: "CANCELLED",
}  # every other status is an appointment that stands (or stood): CONFIRMED


class CalendarFeedNotFound(NotFound):
    code = "calendar_feed_not_found"


@dataclass(frozen=True, slots=True)
class BookingFilter:
    """Bookings starting in [starts_from, starts_before), narrowed by the given fields."""

    starts_from: datetime | None = None
    starts_before: datetime | None = None
    staff_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    customer_record_id: uuid.UUID | None = None
    statuses: frozenset[BookingStatus] = frozenset()

    def check(self) -> None:
        for name, value in (("query.from", self.starts_from), ("query.to", self.starts_before)):
            if value is not None and value.utcoffset() is None:
                raise ValidationFailed.on(name, "timezone_aware", "Give the instant with a UTC offset.")
        if self.starts_from and self.starts_before and self.starts_before <= self.starts_from:
            raise ValidationFailed.on("query.to", "valid_window", "`to` must be later than `from`.")


@dataclass(frozen=True, slots=True)
class BookingCustomer:
    """Who a booking is for, as a calendar names them: the account's name and proven
    phone, or a guest's name (no account: no id; a phone if booked by their record)."""

    id: uuid.UUID | None
    name: str
    phone: str | None


@dataclass(frozen=True, slots=True)
class BookingPage:
    bookings: list[Booking]
    next_cursor: str | None
    resource_ids: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=dict)
    customers: dict[uuid.UUID, BookingCustomer] = field(default_factory=dict)  # by booking id


async def list_business_bookings(
    session: AsyncSession, ctx: BusinessContext, filters: BookingFilter, *, cursor: str | None, limit: int
) -> BookingPage:
    """The business's bookings by (starts_at, id), for its staff and owners."""
    if not ctx.is_staff:  # the route's guard says the same; the use case does not rely on it
        raise InsufficientRole("Only the business's staff can list its bookings.")
    filters.check()
    page = await _page(
        session, [Booking.business_id == ctx.business_id, *_conditions(filters)], cursor, limit
    )
    resources = await occupancy.booking_resources(session, ctx.business_id, [b.id for b in page.bookings])
    return replace(page, resource_ids=resources)


async def list_my_bookings(
    session: AsyncSession, actor: Actor, filters: BookingFilter, *, cursor: str | None, limit: int
) -> BookingPage:
    """The actor's own bookings in every business, by (starts_at, id)."""
    filters.check()
    own = replace(filters, staff_id=None, customer_id=None, customer_record_id=None)
    # RLS alone would return only the caller's rows; the explicit filter keeps the
    # query's meaning independent of the session's tenant setting.
    page = await _page(session, [Booking.customer_id == actor.user_id, *_conditions(own)], cursor, limit)
    return replace(page, resource_ids=await _resources_across_businesses(session, page.bookings))


def _conditions(filters: BookingFilter) -> list[ColumnElement[bool]]:
    conditions = []
    if filters.starts_from is not None:
        conditions.append(Booking.starts_at >= filters.starts_from)
    if filters.starts_before is not None:
        conditions.append(Booking.starts_at < filters.starts_before)
    if filters.staff_id is not None:
        conditions.append(Booking.staff_id == filters.staff_id)
    if filters.customer_id is not None:
        conditions.append(Booking.customer_id == filters.customer_id)
    if filters.customer_record_id is not None:
        conditions.append(of_record(filters.customer_record_id))
    if filters.statuses:
        conditions.append(Booking.status.in_(sorted(filters.statuses)))
    return conditions


@dataclass(frozen=True, slots=True)
class CustomerFootprint:
    """Where an account has booked (any status), and how many of its bookings are still
    to come (held, confirmed, or under way)."""

    business_ids: list[uuid.UUID]
    upcoming: int


async def customer_footprint(
    session: AsyncSession, user_id: uuid.UUID, *, now: datetime
) -> CustomerFootprint:
    """Read outside any tenant: a customer's own bookings are theirs to read everywhere
    (policy booking_own_read)."""
    live = Booking.status.in_([BookingStatus.HELD, BookingStatus.CONFIRMED, BookingStatus.CHECKED_IN])
    stmt = (
        select(Booking.business_id, func.count().filter(and_(live, Booking.ends_at > now)))
        .where(Booking.customer_id == user_id)
        .group_by(Booking.business_id)
        .order_by(Booking.business_id)
    )
    rows = (await session.execute(stmt)).all()
    return CustomerFootprint([row[0] for row in rows], sum(row[1] for row in rows))


def of_record(record_id: uuid.UUID) -> ColumnElement[bool]:
    """A customer record's bookings: booked by it, or by its account (in this business:
    the caller's conditions name the business)."""
    record = aliased(CustomerRecord)  # (the page's query joins the table too)
    account = (
        select(record.user_id)
        .where(record.business_id == Booking.business_id, record.id == record_id)
        .scalar_subquery()
    )
    return or_(Booking.customer_record_id == record_id, Booking.customer_id == account)


# A page's bookings with their customers, in one statement. A guest booked by name (a
# walk-in) has no account: the outer join leaves its columns null; one booked by their
# customer record has the record's number.
_WITH_CUSTOMERS = (
    select(Booking, User.full_name, func.coalesce(User.phone, CustomerRecord.phone))
    .outerjoin(User, User.id == Booking.customer_id)
    .outerjoin(
        CustomerRecord,
        and_(
            CustomerRecord.business_id == Booking.business_id, CustomerRecord.id == Booking.customer_record_id
        ),
    )
)


async def customers_of(
    session: AsyncSession, ctx: BusinessContext, booking_ids: list[uuid.UUID]
) -> dict[uuid.UUID, BookingCustomer]:
    """Who each of these bookings is for, as a calendar names them (staff only)."""
    if not ctx.is_staff:
        raise InsufficientRole("Only the business's staff can see who a booking is for.")
    rows = await session.execute(
        _WITH_CUSTOMERS.where(Booking.business_id == ctx.business_id, Booking.id.in_(booking_ids))
    )
    return {booking.id: _customer(booking, name, phone) for booking, name, phone in rows.all()}


async def _page(
    session: AsyncSession, where: list[ColumnElement[bool]], cursor: str | None, limit: int
) -> BookingPage:
    rows, next_cursor = await fetch_rows_page(
        session,
        _WITH_CUSTOMERS.where(*where),
        order_by=[Booking.starts_at, Booking.id],
        cursor=cursor,
        limit=limit,
    )
    bookings = [booking for booking, _, _ in rows]
    customers = {booking.id: _customer(booking, name, phone) for booking, name, phone in rows}
    return BookingPage(bookings, next_cursor, customers=customers)


def _customer(booking: Booking, full_name: str | None, phone: str | None) -> BookingCustomer:
    if booking.customer_id is None:
        assert booking.guest_name is not None  # the `has_customer` check constraint
        return BookingCustomer(None, booking.guest_name, phone)
    assert full_name is not None  # the customer_id foreign key
    return BookingCustomer(booking.customer_id, full_name, phone)


async def _resources_across_businesses(
    session: AsyncSession, bookings: Sequence[Booking]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Allocations are readable only inside their tenant, so enter each business of the
    page in turn: the context GET /bookings/{id} would enter for the same customer. One
    query per business on the page; nothing else runs in this transaction afterwards."""
    by_business: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for booking in bookings:
        by_business[booking.business_id].append(booking.id)
    found: dict[uuid.UUID, list[uuid.UUID]] = {}
    for business_id, booking_ids in by_business.items():
        await set_tenant(session, business_id)
        found.update(await occupancy.booking_resources(session, business_id, booking_ids))
    return found


async def booking_calendar(
    session: AsyncSession, ctx: BusinessContext, booking_id: uuid.UUID, *, now: datetime
) -> str:
    """One booking as a VCALENDAR, for its customer or the business's staff."""
    booking = await service.get_booking(session, ctx, booking_id)
    business = await tenancy_repository.get_business(session, ctx.business_id)
    offered = await catalog_repository.get_service(session, ctx.business_id, booking.service_id)
    staff = await catalog_repository.get_staff(session, ctx.business_id, booking.staff_id)
    # All three are guaranteed by the booking's foreign keys.
    assert business is not None
    assert offered is not None
    assert staff is not None
    event = _event(booking, f"{offered.name} at {business.name}", description=f"With {staff.display_name}")
    return ics.render_calendar([event], stamp=now)


def _event(booking: Booking, summary: str, *, description: str | None = None) -> ics.Event:
    return ics.Event(
        # Stable per booking, so a re-import or a feed refresh updates the same event.
        uid=f"{booking.id}@booklnk",
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        summary=summary,
        description=description,
        status=_ICS_STATUS.get(booking.status, "CONFIRMED"),
        # Bumped by every change of the booking, which is what SEQUENCE asks for.
        sequence=booking.version,
        created_at=booking.created_at,
        last_modified=booking.updated_at,
    )


# --- the private per-staff feed -------------------------------------------------------


def new_feed_token(business_id: uuid.UUID) -> str:
    """`<business id, 32 hex>` + a 256-bit secret: the public route learns the tenant to
    enter from the token itself; only the secret part makes it unguessable."""
    raw, _ = credentials.new_opaque_token()
    return business_id.hex + raw


def feed_business(token: str) -> uuid.UUID | None:
    """The business a well-formed token names (not yet proof it is a valid token)."""
    match = _FEED_TOKEN.fullmatch(token)
    return uuid.UUID(hex=match["business"]) if match else None


async def issue_calendar_feed(
    session: AsyncSession, ctx: BusinessContext, staff_id: uuid.UUID, *, now: datetime
) -> str:
    """Create, or rotate, the staff member's feed token; the old one stops working at
    once. Returns the token: shown once, only its hash is kept."""
    await _check_feed_manager(session, ctx, staff_id)
    token = new_feed_token(ctx.business_id)
    digest = credentials.hash_opaque_token(token)
    # An upsert: of two concurrent rotations the later one wins, neither fails.
    row = {"token_hash": digest, "issued_by": ctx.actor.user_id, "created_at": now}
    stmt = insert(CalendarFeed).values(business_id=ctx.business_id, staff_id=staff_id, **row)
    await session.execute(
        stmt.on_conflict_do_update(index_elements=[CalendarFeed.business_id, CalendarFeed.staff_id], set_=row)
    )
    return token


async def revoke_calendar_feed(session: AsyncSession, ctx: BusinessContext, staff_id: uuid.UUID) -> None:
    """Stop the staff member's feed (idempotent: no feed is already revoked)."""
    await _check_feed_manager(session, ctx, staff_id)
    await session.execute(
        delete(CalendarFeed).where(
            CalendarFeed.business_id == ctx.business_id, CalendarFeed.staff_id == staff_id
        )
    )


async def _check_feed_manager(session: AsyncSession, ctx: BusinessContext, staff_id: uuid.UUID) -> None:
    """Owners manage any staff member's feed; a staff member only their own. The staff
    row is looked up first: an unknown id (or another business's) is 404, not 403."""
    staff = await catalog.get_staff(session, ctx, staff_id)
    if ctx.is_owner or (ctx.is_staff and staff.user_id == ctx.actor.user_id):
        return
    raise InsufficientRole("Only an owner, or the staff member themself, can manage this feed.")


async def staff_feed_calendar(session: AsyncSession, token: str, *, now: datetime) -> str:
    """The feed a token opens: its staff member's bookings from 30 days back to 90 ahead."""
    business_id = feed_business(token)
    if business_id is None:
        raise CalendarFeedNotFound("No such calendar feed.")
    await set_tenant(session, business_id)  # before any read: RLS scopes all that follows
    feed = await _feed_by_hash(session, business_id, credentials.hash_opaque_token(token))
    if feed is None:
        raise CalendarFeedNotFound("No such calendar feed.")
    staff = await catalog_repository.get_staff(session, business_id, feed.staff_id)
    assert staff is not None  # the feed row's foreign key
    if not staff.active:  # a deactivated staff member has no calendar to show
        raise CalendarFeedNotFound("No such calendar feed.")
    business = await tenancy_repository.get_business(session, business_id)
    assert business is not None
    events = [
        _event(booking, f"{service_name} with {customer_name}")
        for booking, service_name, customer_name in await _feed_rows(session, staff, now)
    ]
    name = f"{staff.display_name} at {business.name}"
    return ics.render_calendar(events, stamp=now, name=name, refresh_minutes=FEED_REFRESH_MINUTES)


async def _feed_by_hash(session: AsyncSession, business_id: uuid.UUID, digest: str) -> CalendarFeed | None:
    stmt = select(CalendarFeed).where(
        CalendarFeed.business_id == business_id, CalendarFeed.token_hash == digest
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def _feed_rows(
    session: AsyncSession, staff: StaffMember, now: datetime
) -> Sequence[tuple[Booking, str, str]]:
    """The staff member's bookings in the feed's window, with service and customer names."""
    stmt = (
        select(Booking, Service.name, func.coalesce(User.full_name, Booking.guest_name))
        .join(Service, and_(Service.business_id == Booking.business_id, Service.id == Booking.service_id))
        # A guest booked by name (a walk-in) has no account.
        .outerjoin(User, User.id == Booking.customer_id)
        .where(
            Booking.business_id == staff.business_id,
            Booking.staff_id == staff.id,
            # Bookings that take (or took) the staff member's time; lapsed holds block
            # nothing any more, even before the worker marks them expired.
            Booking.status.in_(sorted(BLOCKING)),
            or_(Booking.status != BookingStatus.HELD, Booking.hold_expires_at > now),
            Booking.starts_at >= now - FEED_PAST,
            Booking.starts_at < now + FEED_AHEAD,
        )
        .order_by(Booking.starts_at, Booking.id)
        .limit(FEED_MAX_EVENTS)
    )
    return [(booking, name, customer) for booking, name, customer in (await session.execute(stmt)).all()]
