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

from sqlalchemy import (
    BigInteger,
    DateTime,
    Row,
    Select,
    String,
    Uuid,
    any_,
    bindparam,
    cast,
    column,
    false,
    func,
    literal,
    null,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSTZRANGE, Range
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking.models import Allocation, Booking, BookingStatus
from booklnk.catalog import schedule_rows
from booklnk.catalog.models import Resource, StaffMember
from booklnk.catalog.schedule_rules import DayOverride, WeeklySchedule
from booklnk.scheduling.busy import Busy, micros
from booklnk.scheduling.intervals import Interval

OwnerKey = tuple[str, uuid.UUID | None]  # ("business", None) | ("staff", id) | ("resource", id)


@dataclass
class OwnerCalendar:
    """One schedule owner's raw calendar over the loaded window."""

    week: WeeklySchedule = field(default_factory=WeeklySchedule)
    overrides: list[DayOverride] = field(default_factory=list)
    time_off: list[Interval] = field(default_factory=list)
    busy: Busy = field(default_factory=Busy)


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
_MOMENT = DateTime(timezone=True)
# The span the busy time is read for; its start is also where `sql_micros` counts from.
_SPAN_START = bindparam("span_start", type_=_MOMENT)
_SPAN_END = bindparam("span_end", type_=_MOMENT)


def sql_micros(instant: Any) -> Any:
    """`instant` in epoch microseconds, exactly. Counted from the span's start
    (`span_start`, and `span_start_micros` the same in microseconds), in floating point:
    20 ms less than `extract`'s numeric for 200,000 values, and exact within 70 years of
    it (the seconds of an interval are its days times 86,400 plus a fraction below one
    day, and a double carries them to well under half a microsecond), while a search's
    busy time lies within days of its window."""
    since = func.date_part("epoch", instant - _SPAN_START)
    return cast(since * 1_000_000, BigInteger) + bindparam("span_start_micros", type_=BigInteger)


def _busy_rows() -> Select[*tuple[Any, ...]]:
    """Busy time: per lane (with its owner, from three array parameters), the active
    allocations' periods overlapping `span`, in two arrays of epoch microseconds (see
    `scheduling.busy`: for any of 200 over 62 days, 57 against 128 ms to read them as
    timestamps; both aggregates read the lane's rows in one order, so the arrays pair up).
    One index scan per lane, bounded by start on both sides (not the lane's whole history),
    each owner's rows aggregated where they are read: grouping a hundred thousand rows by owner
    sorted them on disk first (bench/stack.py's any of 200 over 62 days: 137 against 94 ms).
    Lapsed holds block no more (even before the worker or a new booking releases them). A
    class session's allocations have no booking and always count."""
    owner = (
        func.unnest(
            bindparam("lanes", type_=ARRAY(BigInteger)),
            bindparam("lane_staff", type_=ARRAY(Uuid)),
            bindparam("lane_resources", type_=ARRAY(Uuid)),
        )
        .table_valued(column("lane", BigInteger), column("staff_id", Uuid), column("resource_id", Uuid))
        .render_derived(name="owner")
    )
    # Lapsed holds are few (mostly none): read once per statement, not probed per period
    # (PostgreSQL's generic plan for a prepared statement probed the booking table once
    # per allocation: 270 against 77 ms for any of 200 over 62 days).
    # The status is written as a literal so that the plan uses the partial index on held
    # bookings' expiry (a parameter would not prove its predicate).
    lapsed = select(Booking.id).where(
        Booking.business_id == bindparam("business_id"),
        Booking.status == literal(BookingStatus.HELD, Booking.status.type, literal_execute=True),
        Booking.hold_expires_at <= bindparam("now"),
    )
    periods = (
        select(
            func.array_agg(sql_micros(func.lower(Allocation.period))).label("starts"),
            func.array_agg(sql_micros(func.upper(Allocation.period))).label("ends"),
        )
        .where(
            Allocation.business_id == bindparam("business_id"),
            Allocation.lane == owner.c.lane,
            *Allocation.starting_near(_SPAN_START, _SPAN_END),
            Allocation.active.is_(True),
            Allocation.period.overlaps(bindparam("span", type_=TSTZRANGE)),
            # (A class session's allocation has no booking: null is not lapsed.)
            ~func.coalesce(Allocation.booking_id == any_(func.array(lapsed.scalar_subquery())), false()),
        )
        .lateral("periods")
    )
    return (
        schedule_rows.period_rows(
            _BUSY,
            cast(null(), String),
            owner.c.staff_id,
            owner.c.resource_id,
            periods.c.starts,
            periods.c.ends,
            in_micros=True,
        )
        .select_from(owner.join(periods, true()))
        .where(periods.c.starts.is_not(None))
    )


# With the schedules, one statement, built once.
_CALENDARS = schedule_rows.schedules_with(_busy_rows())


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
        **schedule_rows.schedule_params(
            business_id,
            staff_ids=[s.id for s in staff],
            resource_ids=[r.id for r in resources],
            dates=dates,
            period=(span.start, span.end),
        ),
        "lanes": [s.lane for s in staff] + [r.lane for r in resources],
        "lane_staff": [s.id for s in staff] + [None] * len(resources),
        "lane_resources": [None] * len(staff) + [r.id for r in resources],
        "span": Range(span.start, span.end),
        "span_start": span.start,
        "span_start_micros": micros(span.start),
        "span_end": span.end,
        "now": now,
    }
    scheduled: list[Row[Any]] = []
    busy: dict[OwnerKey, Busy] = {}
    for row in await session.execute(_CALENDARS, params):
        if row[0] == _BUSY:
            # The one_owner CHECK: an allocation holds a staff member or a resource.
            staff_id, resource_id = row[2], row[3]
            owner: OwnerKey = ("staff", staff_id) if staff_id is not None else ("resource", resource_id)
            busy[owner] = Busy.from_arrays(row[13], row[14])
        else:
            scheduled.append(row)
    calendars: dict[OwnerKey, OwnerCalendar] = defaultdict(OwnerCalendar)
    for owner, schedule in schedule_rows.read_schedules(scheduled).items():
        calendars[owner] = OwnerCalendar(
            week=schedule.week,
            overrides=schedule.overrides,
            time_off=[Interval(start, end) for start, end in schedule.time_off],
        )
    for owner, periods in busy.items():
        calendars[owner].busy = periods
    return calendars
