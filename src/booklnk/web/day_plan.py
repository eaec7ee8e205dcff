"""The front desk's day as a grid (pure): one column per staff member (or room), one row
per `ROW_MINUTES` of the local day, each booking a block spanning the rows of its time,
and the time a column cannot be booked shaded behind them, each shade named by why. The
page hands the numbers to CSS grid lines; nothing here knows HTML or reads a schedule."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from booklnk.flows.working_time import Hours
from booklnk.scheduling.intervals import Interval, IntervalSet

ROW_MINUTES = 5
# The day shown at least (local hours), widened to whatever the bookings need.
FIRST_HOUR = 9
LAST_HOUR = 21


@dataclass(frozen=True, slots=True)
class Item:
    key: uuid.UUID
    column_key: uuid.UUID
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class Placed:
    key: uuid.UUID
    column: int  # 1-based, after the hours' column
    row_start: int  # CSS grid lines: 1-based, the header is row 1
    row_end: int


# Why a column cannot be booked, most telling first: a staff member's or room's own time
# off, the business closed, a break inside their hours, outside their own hours.
ShadeKind = Literal["time_off", "closed", "break", "off"]


@dataclass(frozen=True, slots=True)
class Shade:
    column_key: uuid.UUID
    kind: ShadeKind
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class PlacedShade:
    shade: Shade
    column: int
    row_start: int
    row_end: int


def shades(column_key: uuid.UUID, day: Interval, hours: Hours) -> list[Shade]:
    """The parts of `day` outside `hours.open`, each named by the first reason that holds,
    in time order: together with the open time they tile the day exactly."""
    rest = IntervalSet([day]).subtract(hours.open)
    reasons: tuple[tuple[ShadeKind, IntervalSet], ...] = (
        ("time_off", hours.time_off),
        ("closed", IntervalSet([day]).subtract(hours.opening)),
        ("break", hours.shift),
    )
    found: list[Shade] = []
    for kind, reason in reasons:
        taken = rest.intersection(reason)
        found += [Shade(column_key, kind, i.start, i.end) for i in taken]
        rest = rest.subtract(taken)
    found += [Shade(column_key, "off", i.start, i.end) for i in rest]
    return sorted(found, key=lambda s: s.starts_at)


@dataclass(frozen=True, slots=True)
class Plan:
    start: datetime  # local, the first row's time
    rows: int
    blocks: list[Placed]
    hours: list[tuple[datetime, int]]  # each full hour and its row line
    now_row: int | None
    shades: list[PlacedShade] = field(default_factory=list)


def plan(
    midnight: datetime,
    columns: Sequence[uuid.UUID],
    items: Sequence[Item],
    *,
    now: datetime | None = None,
    shaded: Sequence[Shade] = (),
    working: Sequence[Interval] = (),
) -> Plan:
    """Lay out `items` on the day starting at local `midnight` (tz-aware). Blocks keep at
    least one row; a booking that runs past the day's end is cut at it. The shown hours
    widen to the bookings and to the `working` (open) time, never to the shades: those
    cover the whole night, and are cut to the shown hours instead."""
    day_end = midnight + timedelta(days=1)
    first = midnight + timedelta(hours=FIRST_HOUR)
    last = midnight + timedelta(hours=LAST_HOUR)
    spans = [(i.starts_at, i.ends_at) for i in items] + [(w.start, w.end) for w in working]
    for starts_at, ends_at in spans:
        first = min(first, max(starts_at, midnight))
        last = max(last, min(ends_at, day_end))
    # Whole hours, so the hour marks line up.
    first = midnight + timedelta(hours=int((first - midnight).total_seconds() // 3600))
    last_hours = -(-int((last - midnight).total_seconds()) // 3600)
    last = midnight + timedelta(hours=min(last_hours, 24))
    rows = int((last - first).total_seconds() // 60) // ROW_MINUTES

    def line(instant: datetime) -> int:
        minutes = (min(max(instant, first), last) - first).total_seconds() / 60
        return 2 + int(minutes // ROW_MINUTES)

    index = {key: i + 2 for i, key in enumerate(columns)}
    blocks = []
    for item in sorted(items, key=lambda i: (i.starts_at, i.key)):
        if item.column_key not in index:
            continue
        start = line(item.starts_at)
        end = max(line(item.ends_at), start + 1)
        blocks.append(Placed(item.key, index[item.column_key], start, min(end, rows + 2)))
    hours = []
    at = first
    while at < last:
        hours.append((at, line(at)))
        at += timedelta(hours=1)
    now_row = line(now) if now is not None and first <= now < last else None
    placed_shades = [
        PlacedShade(shade, index[shade.column_key], line(shade.starts_at), line(shade.ends_at))
        for shade in shaded
        if shade.column_key in index and line(shade.starts_at) < line(shade.ends_at)
    ]
    return Plan(first, rows, blocks, hours, now_row, placed_shades)
