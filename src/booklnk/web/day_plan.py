"""The front desk's day as a grid (pure): one column per staff member, one row per
`ROW_MINUTES` of the local day, each booking a block spanning the rows of its time. The
page hands the numbers to CSS grid lines; nothing here knows HTML."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

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


@dataclass(frozen=True, slots=True)
class Plan:
    start: datetime  # local, the first row's time
    rows: int
    blocks: list[Placed]
    hours: list[tuple[datetime, int]]  # each full hour and its row line
    now_row: int | None


def plan(
    midnight: datetime, columns: Sequence[uuid.UUID], items: Sequence[Item], *, now: datetime | None = None
) -> Plan:
    """Lay out `items` on the day starting at local `midnight` (tz-aware). Blocks keep at
    least one row; a booking that runs past the day's end is cut at it."""
    day_end = midnight + timedelta(days=1)
    first = midnight + timedelta(hours=FIRST_HOUR)
    last = midnight + timedelta(hours=LAST_HOUR)
    for item in items:
        first = min(first, max(item.starts_at, midnight))
        last = max(last, min(item.ends_at, day_end))
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
    return Plan(first, rows, blocks, hours, now_row)
