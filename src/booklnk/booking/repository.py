"""All SQL of the booking domain: a business's calendar data in a bounded number of
queries (whatever the window), and the writes that the exclusion constraint guards."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import BigInteger, and_, any_, cast, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY, Range
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking.models import Allocation, Booking, BookingStatus
from booklnk.catalog.models import (
    DateOverride,
    DateOverrideInterval,
    Resource,
    Service,
    ServiceStaff,
    StaffMember,
    TimeOff,
    WeeklyInterval,
)
from booklnk.catalog.schedule_rules import DayOverride, Span, WeeklySchedule, WeeklySpan, from_db_time
from booklnk.scheduling.intervals import Interval

OwnerKey = tuple[str, uuid.UUID | None]  # ("business", None) | ("staff", id) | ("resource", id)


@dataclass
class OwnerCalendar:
    """One schedule owner's raw calendar over the loaded window."""

    week: WeeklySchedule = field(default_factory=WeeklySchedule)
    overrides: list[DayOverride] = field(default_factory=list)
    time_off: list[Interval] = field(default_factory=list)
    busy: list[tuple[datetime, datetime]] = field(default_factory=list)  # UTC (start, end) pairs


def _key(row: WeeklyInterval | DateOverride | TimeOff) -> OwnerKey:
    return (row.owner_kind, row.staff_id or row.resource_id)


async def get_service(session: AsyncSession, business_id: uuid.UUID, service_id: uuid.UUID) -> Service | None:
    return await session.get(Service, (business_id, service_id))


async def qualified_staff(
    session: AsyncSession, business_id: uuid.UUID, service_id: uuid.UUID
) -> Sequence[StaffMember]:
    stmt = (
        select(StaffMember)
        .join(
            ServiceStaff,
            and_(
                ServiceStaff.business_id == StaffMember.business_id, ServiceStaff.staff_id == StaffMember.id
            ),
        )
        .where(
            ServiceStaff.business_id == business_id,
            ServiceStaff.service_id == service_id,
            StaffMember.active.is_(True),
        )
        .order_by(StaffMember.display_name, StaffMember.id)
    )
    return (await session.execute(stmt)).scalars().all()


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


async def load_calendars(
    session: AsyncSession,
    business_id: uuid.UUID,
    *,
    lanes: dict[int, OwnerKey],
    dates: tuple[date, date],
    span: Interval,
    now: datetime,
) -> dict[OwnerKey, OwnerCalendar]:
    """Weekly hours, overrides, time off and busy time of the business and the given
    lanes' owners: four queries, independent of the window's length."""
    calendars: dict[OwnerKey, OwnerCalendar] = defaultdict(OwnerCalendar)
    await _load_weeks(session, business_id, calendars)
    await _load_overrides(session, business_id, dates, calendars)
    await _load_time_off(session, business_id, span, calendars)
    await _load_busy(session, business_id, lanes, span, now, calendars)
    return calendars


async def _load_weeks(
    session: AsyncSession, business_id: uuid.UUID, out: dict[OwnerKey, OwnerCalendar]
) -> None:
    rows = (
        await session.execute(select(WeeklyInterval).where(WeeklyInterval.business_id == business_id))
    ).scalars()
    hours: dict[OwnerKey, list[WeeklySpan]] = defaultdict(list)
    breaks: dict[OwnerKey, list[WeeklySpan]] = defaultdict(list)
    for row in rows:
        target = hours if row.kind == "hours" else breaks
        target[_key(row)].append(WeeklySpan(row.weekday, _span(row.start_time, row.end_time)))
    for key in hours.keys() | breaks.keys():
        out[key].week = WeeklySchedule(hours=hours[key], breaks=breaks[key])


def _span(start: object, end: object) -> Span:
    return Span(from_db_time(start, is_end=False), from_db_time(end, is_end=True))  # type: ignore[arg-type]


async def _load_overrides(
    session: AsyncSession,
    business_id: uuid.UUID,
    dates: tuple[date, date],
    out: dict[OwnerKey, OwnerCalendar],
) -> None:
    stmt = (
        select(DateOverride, DateOverrideInterval)
        .outerjoin(
            DateOverrideInterval,
            and_(
                DateOverrideInterval.business_id == DateOverride.business_id,
                DateOverrideInterval.override_id == DateOverride.id,
            ),
        )
        .where(DateOverride.business_id == business_id, DateOverride.override_date.between(*dates))
        .order_by(DateOverride.id, DateOverrideInterval.position)
    )
    spans: dict[uuid.UUID, list[Span]] = defaultdict(list)
    overrides: dict[uuid.UUID, DateOverride] = {}
    for override, interval in (await session.execute(stmt)).all():
        overrides[override.id] = override
        if interval is not None:
            spans[override.id].append(_span(interval.start_time, interval.end_time))
    for override_id, override in overrides.items():
        out[_key(override)].overrides.append(
            DayOverride(override.override_date, override.closed, spans[override_id])
        )


async def _load_time_off(
    session: AsyncSession, business_id: uuid.UUID, span: Interval, out: dict[OwnerKey, OwnerCalendar]
) -> None:
    stmt = select(TimeOff).where(
        TimeOff.business_id == business_id, TimeOff.starts_at < span.end, TimeOff.ends_at > span.start
    )
    for row in (await session.execute(stmt)).scalars():
        out[_key(row)].time_off.append(Interval(row.starts_at, row.ends_at))


async def _load_busy(
    session: AsyncSession,
    business_id: uuid.UUID,
    lanes: dict[int, OwnerKey],
    span: Interval,
    now: datetime,
    out: dict[OwnerKey, OwnerCalendar],
) -> None:
    """Active allocations, except holds already past their expiry (they block no more,
    even before the worker or a new booking releases them)."""
    if not lanes:
        return
    # Bounds, not Range objects, and one array parameter for the lanes: this query returns
    # thousands of rows for a busy "any staff" search.
    stmt = (
        select(Allocation.lane, func.lower(Allocation.period), func.upper(Allocation.period))
        .join(
            Booking, and_(Booking.business_id == Allocation.business_id, Booking.id == Allocation.booking_id)
        )
        .where(
            Allocation.business_id == business_id,
            Allocation.lane == any_(cast(list(lanes), ARRAY(BigInteger))),
            Allocation.active.is_(True),
            Allocation.period.overlaps(Range(span.start, span.end)),
            or_(Booking.status != BookingStatus.HELD, Booking.hold_expires_at > now),
        )
    )
    for lane, start, end in (await session.execute(stmt)).all():
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
