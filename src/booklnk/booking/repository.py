"""All SQL of the booking domain: a business's calendar data in a bounded number of
queries (whatever the window), and the writes that the exclusion constraint guards."""

from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Executable,
    and_,
    any_,
    bindparam,
    delete,
    exists,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSTZRANGE, Range
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking.models import Allocation, Booking, BookingStatus
from booklnk.catalog.models import (
    Resource,
    Service,
)
from booklnk.catalog.schedule_rules import DayOverride, WeeklySchedule
from booklnk.db.errors import sqlstate, violated_constraint
from booklnk.scheduling.intervals import Interval

OwnerKey = tuple[str, uuid.UUID | None]  # ("business", None) | ("staff", id) | ("resource", id)


@dataclass
class OwnerCalendar:
    """One schedule owner's raw calendar over the loaded window."""

    week: WeeklySchedule = field(default_factory=WeeklySchedule)
    overrides: list[DayOverride] = field(default_factory=list)
    time_off: list[Interval] = field(default_factory=list)
    busy: list[tuple[datetime, datetime]] = field(default_factory=list)  # UTC (start, end) pairs


async def get_service(session: AsyncSession, business_id: uuid.UUID, service_id: uuid.UUID) -> Service | None:
    return await session.get(Service, (business_id, service_id))


async def resources_of_kinds(
    session: AsyncSession, business_id: uuid.UUID, kinds: Sequence[str]
) -> Sequence[Resource]:
    if not kinds:
        return []
    stmt = (
        select(Resource)
        .where(Resource.business_id == business_id, Resource.kind.in_(kinds), Resource.active.is_(True))
        .order_by(Resource.name, Resource.id)
    )
    return (await session.execute(stmt)).scalars().all()


# Lapsed holds block no more (even before the worker or a new booking releases them): an
# anti-join on them is cheaper than joining every booking. Built once; bounds, not Range
# objects, and one array parameter for the lanes: a busy "any staff" search returns
# thousands of rows.
_BUSY = select(Allocation.lane, func.lower(Allocation.period), func.upper(Allocation.period)).where(
    Allocation.business_id == bindparam("business_id"),
    Allocation.lane == any_(bindparam("lanes", type_=ARRAY(BigInteger))),
    Allocation.active.is_(True),
    Allocation.period.overlaps(bindparam("span", type_=TSTZRANGE)),
    ~exists().where(
        Booking.business_id == Allocation.business_id,
        Booking.id == Allocation.booking_id,
        Booking.status == BookingStatus.HELD,
        Booking.hold_expires_at <= bindparam("now"),
    ),
)


async def load_busy(
    session: AsyncSession,
    business_id: uuid.UUID,
    lanes: dict[int, OwnerKey],
    span: Interval,
    now: datetime,
    out: dict[OwnerKey, OwnerCalendar],
) -> None:
    """The blocked periods on `lanes` within `span`, added to each owner's calendar."""
    if not lanes:
        return
    params = {
        "business_id": business_id,
        "lanes": list(lanes),
        "span": Range(span.start, span.end),
        "now": now,
    }
    for lane, start, end in await session.execute(_BUSY, params):
        out[lanes[lane]].busy.append((start, end))


async def lapsed_holds_in_the_way(
    session: AsyncSession, business_id: uuid.UUID, lanes: Sequence[int], period: Interval, now: datetime
) -> list[uuid.UUID]:
    """The lapsed holds whose allocations still block `period` on `lanes`."""
    lapsed = (
        select(Allocation.booking_id)
        .join(
            Booking, and_(Booking.business_id == Allocation.business_id, Booking.id == Allocation.booking_id)
        )
        .where(
            Allocation.business_id == business_id,
            Allocation.lane.in_(list(lanes)),
            Allocation.active.is_(True),
            Allocation.period.overlaps(Range(period.start, period.end)),
            Booking.status == BookingStatus.HELD,
            Booking.hold_expires_at <= now,
        )
    )
    return list((await session.execute(lapsed)).scalars())


async def expire_holds(
    session: AsyncSession, business_id: uuid.UUID, booking_ids: Sequence[uuid.UUID]
) -> None:
    """Expire these lapsed holds and free their time, in the caller's transaction, so a new
    booking may take it."""
    await session.execute(
        update(Booking)
        .where(
            Booking.business_id == business_id,
            Booking.id.in_(list(booking_ids)),
            Booking.status == BookingStatus.HELD,
        )
        .values(status=BookingStatus.EXPIRED, version=Booking.version + 1, updated_at=func.now())
    )
    await session.execute(
        update(Allocation)
        .where(Allocation.business_id == business_id, Allocation.booking_id.in_(list(booking_ids)))
        .values(active=False)
    )


@dataclass(frozen=True, slots=True)
class Placement:
    """The allocations one candidate combination needs over `blocked`: the staff member's
    lane, then one per resource (`lanes` in that order)."""

    business_id: uuid.UUID
    booking_id: uuid.UUID
    staff_id: uuid.UUID
    resource_ids: list[uuid.UUID]
    lanes: list[int]
    blocked: Interval


_ALLOCATIONS = """
    INSERT INTO allocation (business_id, booking_id, lane, staff_id, resource_id, period, active)
    SELECT CAST(:business_id AS uuid), CAST(:booking_id AS uuid), a.lane, a.staff_id, a.resource_id,
           tstzrange(:blocked_start, :blocked_end), true
    FROM unnest(CAST(:lanes AS bigint[]), CAST(:staff_ids AS uuid[]), CAST(:resource_ids AS uuid[]))
         AS a(lane, staff_id, resource_id)
"""
_INSERT_ALLOCATIONS = text(_ALLOCATIONS)


# The booking row is written in the statement that writes its allocations: if the exclusion
# constraint refuses one, the statement (booking included) fails; the allocations' foreign
# key to the booking is checked at the statement's end.
_PLACE = text(
    f"""
    WITH placed AS ({_ALLOCATIONS})
    INSERT INTO booking (business_id, id, customer_id, service_id, staff_id, status, starts_at, ends_at,
                         hold_expires_at, payment_method, price_minor, currency, extra_fields, version)
    SELECT CAST(:business_id AS uuid), CAST(:booking_id AS uuid), CAST(:customer_id AS uuid),
           CAST(:service_id AS uuid), CAST(:staff_id AS uuid), CAST(:status AS booking_status),
           :starts_at, :ends_at, :hold_expires_at, :payment_method, :price_minor, :currency,
           :extra_fields, :version
    RETURNING created_at, updated_at
    """
).bindparams(bindparam("extra_fields", type_=JSONB))
DEADLOCK_DETECTED = "40P01"


def _placement_params(placement: Placement) -> dict[str, object]:
    return {
        "business_id": placement.business_id,
        "booking_id": placement.booking_id,
        "lanes": placement.lanes,
        "staff_ids": [placement.staff_id, *(None for _ in placement.resource_ids)],
        "resource_ids": [None, *placement.resource_ids],
        "blocked_start": placement.blocked.start,
        "blocked_end": placement.blocked.end,
    }


async def insert_booking(session: AsyncSession, booking: Booking, placement: Placement) -> None:
    """Write `booking` (not added to the session) with its allocations, in one statement
    (run it through `placed`). Its staff member and the row's timestamps are set on it."""
    params = {
        **_placement_params(placement),
        "customer_id": booking.customer_id,
        "service_id": booking.service_id,
        "staff_id": placement.staff_id,
        "status": booking.status.value,
        "starts_at": booking.starts_at,
        "ends_at": booking.ends_at,
        "hold_expires_at": booking.hold_expires_at,
        "payment_method": booking.payment_method,
        "price_minor": booking.price_minor,
        "currency": booking.currency,
        "extra_fields": booking.extra_fields,
        "version": booking.version,
    }
    booking.created_at, booking.updated_at = (await session.execute(_PLACE, params)).one()
    booking.staff_id = placement.staff_id


async def insert_allocations(session: AsyncSession, placement: Placement) -> None:
    """An existing booking's allocations (a move; run it through `placed`)."""
    await session.execute(_INSERT_ALLOCATIONS, _placement_params(placement))


async def placed(session: AsyncSession, write: Callable[[], Awaitable[object]]) -> bool:
    """Run `write` in a savepoint: True if it went in, False when it lost the time to a
    concurrent booking, leaving nothing written and the transaction usable.
    Losing is the exclusion constraint refusing it, or a deadlock: transactions inserting
    allocations that overlap wait for each other (one that has just released a lapsed hold
    holds its rows), and PostgreSQL cancels one of them."""
    try:
        async with session.begin_nested():
            await write()
    except IntegrityError as exc:
        if violated_constraint(exc) != "ex_allocation_overlap":
            raise
        return False
    except DBAPIError as exc:
        if sqlstate(exc) != DEADLOCK_DETECTED:
            raise
        return False
    return True


async def get_booking(
    session: AsyncSession, business_id: uuid.UUID, booking_id: uuid.UUID, *, for_update: bool = False
) -> Booking | None:
    stmt = select(Booking).where(Booking.business_id == business_id, Booking.id == booking_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


def _set_active(business_id: uuid.UUID, booking_id: uuid.UUID, active: bool) -> Executable:
    return (
        update(Allocation)
        .where(Allocation.business_id == business_id, Allocation.booking_id == booking_id)
        .values(active=active)
    )


async def deactivate_allocations(
    session: AsyncSession, business_id: uuid.UUID, booking_id: uuid.UUID
) -> None:
    """Free a booking's time (it stopped blocking: cancelled, expired, …)."""
    await session.execute(_set_active(business_id, booking_id, active=False))


async def reactivate_allocations(
    session: AsyncSession, business_id: uuid.UUID, booking_id: uuid.UUID
) -> bool:
    """Block a booking's time again; False, nothing changed, if someone took it since."""
    return await placed(
        session, functools.partial(session.execute, _set_active(business_id, booking_id, True))
    )


async def booking_resources(
    session: AsyncSession, business_id: uuid.UUID, booking_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    stmt = select(Allocation.booking_id, Allocation.resource_id).where(
        Allocation.business_id == business_id,
        Allocation.booking_id.in_(list(booking_ids)),
        Allocation.resource_id.is_not(None),
    )
    found: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for booking_id, resource_id in (await session.execute(stmt)).all():
        if resource_id is not None:
            found[booking_id].append(resource_id)
    return found


async def delete_allocations(session: AsyncSession, business_id: uuid.UUID, booking_id: uuid.UUID) -> None:
    await session.execute(
        delete(Allocation).where(Allocation.business_id == business_id, Allocation.booking_id == booking_id)
    )


async def compare_and_swap(session: AsyncSession, booking: Booking, **values: object) -> int | None:
    """Write `values` only if the booking is still at the version it was read at; the new
    version, or None when someone else changed it first."""
    result = await session.execute(
        update(Booking)
        .where(
            Booking.business_id == booking.business_id,
            Booking.id == booking.id,
            Booking.version == booking.version,
        )
        .values(**values, version=Booking.version + 1)
        .returning(Booking.version)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none()


async def lapsed_holds(
    session: AsyncSession,
    business_id: uuid.UUID,
    now: datetime,
    *,
    limit: int,
    session_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Held bookings past their expiry (of one class session, if given), oldest first."""
    stmt = (
        select(Booking.id)
        .where(
            Booking.business_id == business_id,
            Booking.status == BookingStatus.HELD,
            Booking.hold_expires_at <= now,
        )
        .order_by(Booking.hold_expires_at)
        .limit(limit)
    )
    if session_id is not None:
        stmt = stmt.where(Booking.session_id == session_id)
    return list((await session.execute(stmt)).scalars())


async def note_reason(session: AsyncSession, booking: Booking, reason: str) -> None:
    await session.execute(
        update(Booking)
        .where(Booking.business_id == booking.business_id, Booking.id == booking.id)
        .values(status_reason=reason, version=Booking.version + 1, updated_at=func.now())
        .execution_options(synchronize_session=False)
    )
