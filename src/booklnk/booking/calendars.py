"""Reading a business's calendar for the engine: the resources a service needs and the
schedules and busy time of the business, its staff and resources, in a bounded number of
queries whatever the window."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Row, String, any_, bindparam, cast, exists, func, null, select
from sqlalchemy.dialects.postgresql import ARRAY, TSTZRANGE, Range
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking.models import Allocation, Booking, BookingStatus
from booklnk.catalog import repository as catalog
from booklnk.catalog.models import Resource, StaffMember
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


_BUSY = 3  # the source of busy rows among the schedule rows


# Busy time: the active allocations on the lanes. Lapsed holds block no more (even before
# the worker or a new booking releases them): an anti-join on them is cheaper than joining
# every booking. A class session's allocations have no booking and always count. Bounds in
# arrays per owner, not Range objects, and one array parameter for the lanes: a busy "any
# staff" search reads a hundred thousand periods. With the schedules, one statement built once.
_CALENDARS = catalog.schedules_with(
    catalog.period_rows(
        _BUSY,
        cast(null(), String),
        Allocation.staff_id,
        Allocation.resource_id,
        func.lower(Allocation.period),
        func.upper(Allocation.period),
    ).where(
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
)


async def load(
    session: AsyncSession,
    business_id: uuid.UUID,
    staff: Sequence[StaffMember],
    resources: Sequence[Resource],
    *,
    dates: tuple[date, date],
    span: Interval,
    now: datetime,
) -> dict[OwnerKey, OwnerCalendar]:
    """The calendars of the business and of these staff and resources only, in one
    statement: their schedules (weekly hours, the overrides on `dates`, inclusive, and the
    time off overlapping `span`) and their busy time within `span`."""
    params = {
        **catalog.schedule_params(
            business_id,
            staff_ids=[s.id for s in staff],
            resource_ids=[r.id for r in resources],
            dates=dates,
            period=(span.start, span.end),
        ),
        "lanes": [s.lane for s in staff] + [r.lane for r in resources],
        "span": Range(span.start, span.end),
        "now": now,
    }
    schedule_rows: list[Row[Any]] = []
    busy: dict[OwnerKey, list[tuple[datetime, datetime]]] = {}
    for row in await session.execute(_CALENDARS, params):
        if row[0] == _BUSY:
            # The one_owner CHECK: an allocation holds a staff member or a resource.
            staff_id, resource_id = row[2], row[3]
            owner: OwnerKey = ("staff", staff_id) if staff_id is not None else ("resource", resource_id)
            busy[owner] = list(zip(row[11], row[12], strict=True))
        else:
            schedule_rows.append(row)
    calendars: dict[OwnerKey, OwnerCalendar] = defaultdict(OwnerCalendar)
    for owner, schedule in catalog.read_schedules(schedule_rows).items():
        calendars[owner] = OwnerCalendar(
            week=schedule.week,
            overrides=schedule.overrides,
            time_off=[Interval(start, end) for start, end in schedule.time_off],
        )
    for owner, periods in busy.items():
        calendars[owner].busy = periods
    return calendars
