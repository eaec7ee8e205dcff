"""When each staff member and each room or chair can be booked over a run of local dates:
their schedules expanded by the availability engine's own `expand_schedule` (weekly hours,
breaks, date overrides such as a Ramadan schedule, time off) and met with the business's
opening hours by the same rules as `booking.availability`: staff work their own hours
inside the business's; a business with no hours restricts nobody; a resource with no hours
of its own follows the business, less its time off; a staff member with none is not
bookable. The desk's calendar draws these; the owner's reports measure use against them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.catalog import schedules as catalog_schedules
from booklnk.catalog.schedule_rows import OwnerSchedule
from booklnk.catalog.schedule_rules import WeeklySchedule
from booklnk.scheduling.calendar import expand_schedule
from booklnk.scheduling.intervals import Interval, IntervalSet
from booklnk.tenancy.context import BusinessContext


@dataclass(frozen=True, slots=True)
class Hours:
    """One staff member's or resource's time as its schedules say (UTC sets)."""

    open: IntervalSet  # bookable: their hours, breaks and time off cut out, inside opening
    shift: IntervalSet  # their own hours with the breaks left in (to tell a break from "off")
    opening: IntervalSet  # the business's opening hours
    time_off: IntervalSet


def day_span(day: date, zone: ZoneInfo) -> Interval:
    """A local date as an interval of instants (23 or 25 hours on a DST change)."""
    return Interval(_midnight(day, zone), _midnight(day + timedelta(days=1), zone))


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone)


async def hours_of(
    session: AsyncSession,
    ctx: BusinessContext,
    *,
    staff_ids: Sequence[uuid.UUID] = (),
    resource_ids: Sequence[uuid.UUID] = (),
    first: date,
    last: date,
) -> dict[uuid.UUID, Hours]:
    """Each staff member's and resource's hours over local dates `first`..`last` (and a day
    either side), from the one-query read the availability engine uses."""
    zone = ZoneInfo(ctx.time_zone)
    # A day of margin each side, as availability reads: a late shift reaches past midnight.
    since, until = first - timedelta(days=1), last + timedelta(days=1)
    window = Interval(day_span(since, zone).start, day_span(until, zone).end)
    schedules = await catalog_schedules.owner_schedules(
        session,
        ctx,
        staff_ids=staff_ids,
        resource_ids=resource_ids,
        dates=(since, until),
        period=(window.start, window.end),
    )

    def expand(schedule: OwnerSchedule, *, breaks: bool = True, time_off: bool = True) -> IntervalSet:
        week = schedule.week if breaks else WeeklySchedule(hours=schedule.week.hours)
        off = [Interval(start, end) for start, end in schedule.time_off] if time_off else []
        return expand_schedule(
            week, zone, first=since, last=until, overrides=schedule.overrides, time_off=off
        )

    def has_hours(schedule: OwnerSchedule | None) -> bool:
        return schedule is not None and bool(schedule.week.hours or schedule.overrides)

    business = schedules.get(("business", None))
    opening = expand(business) if business is not None and has_hours(business) else IntervalSet([window])

    def owner_hours(schedule: OwnerSchedule | None, default: IntervalSet) -> Hours:
        time_off = IntervalSet.from_pairs(schedule.time_off if schedule else [])
        if schedule is None or not has_hours(schedule):
            return Hours(default.intersection(opening).subtract(time_off), default, opening, time_off)
        shift = expand(schedule, breaks=False, time_off=False)
        return Hours(expand(schedule).intersection(opening), shift, opening, time_off)

    found = {i: owner_hours(schedules.get(("staff", i)), IntervalSet()) for i in staff_ids}
    found |= {i: owner_hours(schedules.get(("resource", i)), opening) for i in resource_ids}
    return found
