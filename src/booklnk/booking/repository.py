"""All SQL of the booking domain: a business's calendar data in a bounded number of
queries (whatever the window), and the writes that the exclusion constraint guards."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import BigInteger, and_, any_, bindparam, delete, exists, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY, TSTZRANGE, Range
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking.models import Allocation, Booking, BookingStatus
from booklnk.catalog.models import (
    Resource,
    Service,
)
from booklnk.catalog.schedule_rules import DayOverride, WeeklySchedule
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


async def release_expired_holds(
    session: AsyncSession, business_id: uuid.UUID, lanes: Sequence[int], period: Interval, now: datetime
) -> int:
    """Expire the lapsed holds that block `period` on `lanes`, in the caller's transaction,
    so a new booking may take their time. Returns how many were released."""
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
    ids = list((await session.execute(lapsed)).scalars())
    if not ids:
        return 0
    await session.execute(
        update(Booking)
        .where(Booking.business_id == business_id, Booking.id.in_(ids), Booking.status == BookingStatus.HELD)
        .values(status=BookingStatus.EXPIRED, version=Booking.version + 1, updated_at=func.now())
    )
    await session.execute(
        update(Allocation)
        .where(Allocation.business_id == business_id, Allocation.booking_id.in_(ids))
        .values(active=False)
    )
    return len(ids)


async def get_booking(
    session: AsyncSession, business_id: uuid.UUID, booking_id: uuid.UUID, *, for_update: bool = False
) -> Booking | None:
    stmt = select(Booking).where(Booking.business_id == business_id, Booking.id == booking_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def set_allocations_active(
    session: AsyncSession, business_id: uuid.UUID, booking_id: uuid.UUID, *, active: bool
) -> None:
    await session.execute(
        update(Allocation)
        .where(Allocation.business_id == business_id, Allocation.booking_id == booking_id)
        .values(active=active)
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
