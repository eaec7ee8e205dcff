"""Where a class session may be placed: the rules a published occurrence and a moved one
share.

A session starts on the business's slot grid (as appointments do) and, when the business
has opening hours, lies inside them (date overrides and the business's time off
included). A business with no hours set restricts nobody, as for appointments.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.catalog import schedule_rows
from booklnk.catalog.models import OwnerKind
from booklnk.kernel.errors import BooklnkError
from booklnk.scheduling.calendar import expand_schedule
from booklnk.scheduling.errors import slot_error
from booklnk.scheduling.intervals import Interval, IntervalSet
from booklnk.scheduling.localtime import day_start, is_on_grid, local_dates
from booklnk.scheduling.rules import SlotRule


def check_start_time(start_time: time, grid_minutes: int, field: str) -> None:
    """A series' local start time lies on the grid (its occurrences then do too)."""
    if (start_time.hour * 60 + start_time.minute) % grid_minutes or start_time.second:
        raise _off_grid(grid_minutes, field)


async def opening_hours(
    session: AsyncSession, business_id: uuid.UUID, zone: ZoneInfo, spans: Sequence[Interval]
) -> IntervalSet | None:
    """The business's open time around `spans` (UTC), or None when it sets no hours."""
    if not spans:
        return None
    first = local_dates(spans[0], zone)[0] - timedelta(days=1)
    last = local_dates(spans[-1], zone)[1] + timedelta(days=1)
    period = (day_start(first, zone), day_start(last + timedelta(days=1), zone))
    found = await schedule_rows.owner_schedules(
        session, business_id, staff_ids=[], resource_ids=[], dates=(first, last), period=period
    )
    business = found.get((OwnerKind.BUSINESS.value, None))
    if business is None or not (business.week.hours or business.overrides):
        return None
    return expand_schedule(
        business.week,
        zone,
        first=first,
        last=last,
        overrides=business.overrides,
        time_off=[Interval(start, end) for start, end in business.time_off],
    )


def check_open(opening: IntervalSet | None, span: Interval, zone: ZoneInfo, field: str) -> None:
    """The session's whole time lies inside the business's open time (if it sets any)."""
    if opening is not None and not opening.contains(span):
        day = span.start.astimezone(zone).date()
        raise slot_error(SlotRule.OUTSIDE_HOURS, field=field, message=f"The business is closed then ({day}).")


async def check_spans_open(
    session: AsyncSession, business_id: uuid.UUID, zone: ZoneInfo, spans: Sequence[Interval], field: str
) -> None:
    """Every span lies inside the business's opening hours (if it sets any)."""
    ordered = sorted(spans, key=lambda span: span.start)
    opening = await opening_hours(session, business_id, zone, ordered)
    for span in ordered:
        check_open(opening, span, zone, field)


def check_moved_start(start: datetime, zone: ZoneInfo, grid_minutes: int, field: str) -> None:
    """A moved occurrence starts on the grid, as a published one does."""
    if not is_on_grid(start, zone, grid_minutes):
        raise _off_grid(grid_minutes, field)


def _off_grid(grid_minutes: int, field: str) -> BooklnkError:
    return slot_error(
        SlotRule.OFF_GRID, field=field, message=f"Start on the business's {grid_minutes}-minute grid."
    )
