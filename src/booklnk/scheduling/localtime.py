"""Local wall-clock readings in an IANA zone <-> UTC instants, per local date. Pure.

How DST is resolved (zoneinfo follows PEP 495, where ``fold`` picks between two
instants that share one wall-clock reading):

* A wall-clock time maps to the FIRST instant at which the zone's clock reaches it.
  - Repeated hour (Cairo, 2026-10-29: 23:00-24:00 happens twice): ``fold=0`` is the
    earlier of the two instants, so we resolve with ``fold=0``. A span 22:00-24:00 then
    runs from the first 22:00 to the real midnight and lasts its true three hours, both
    occurrences of 23:xx included; a shop closing "at 23:30" closes the first time.
  - Skipped hour (Cairo, 2026-04-24: 00:00 jumps to 01:00): 00:30 is never shown, and
    for such a time zoneinfo returns an instant on the far side of the transition (for
    ``fold=0``, by the pre-transition offset), which is not the moment the clock "reaches"
    00:30. We detect the gap by a round trip (the instant must read back as the same wall
    time) and take the transition itself: the first real instant after the gap.
  This mapping is monotonic, so wall-clock spans stay spans and subtracting in wall-clock
  minutes before resolving equals subtracting after.
* The slot grid is different: a grid start is any INSTANT whose local reading is a
  multiple of the grid in minutes since local midnight. Both real instants of a repeated
  reading are grid starts (each offered once), and a skipped reading is none.

Most days are "regular" (24 h, one offset): wall minute m is then the day's first instant
plus m minutes, which keeps the hot paths free of zone conversions. A day holding a
transition takes the slow, exact path. Assumed: no day holds two transitions that cancel
out (tzdata has none in the era of bookings).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from booklnk.catalog.schedule_rules import MINUTES_PER_DAY
from booklnk.scheduling.intervals import Interval

_DAY = timedelta(days=1)
_SECOND = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class _DayFrame:
    start: datetime  # first instant of the local date, UTC
    end: datetime  # first instant of the next local date, UTC
    regular: bool  # 24 h under one offset: wall minute m is `start + m minutes`


def reading(instant: datetime, zone: ZoneInfo) -> datetime:
    """The naive local wall-clock reading of an instant (fold is ignored by comparisons)."""
    return instant.astimezone(zone).replace(tzinfo=None)


def first_instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) at which the clock in `zone` reaches `minute` on `day`.

    `minute` is 0..1440; 1440 ("24:00") is the first instant of the next day.
    """
    if minute == MINUTES_PER_DAY:
        return _frame(day + _DAY, zone).start
    frame = _frame(day, zone)
    if frame.regular:
        return frame.start + timedelta(minutes=minute)
    return _resolve(datetime.combine(day, time()) + timedelta(minutes=minute), zone)


def day_start(day: date, zone: ZoneInfo) -> datetime:
    return _frame(day, zone).start


def local_dates(span: Interval, zone: ZoneInfo) -> tuple[date, date]:
    """The first and last local dates that `span` touches (inclusive)."""
    return span.start.astimezone(zone).date(), span.end.astimezone(zone).date()


def is_on_grid(instant: datetime, zone: ZoneInfo, grid_minutes: int) -> bool:
    """Whether the local reading of `instant` is a whole multiple of the grid since midnight."""
    local = instant.astimezone(zone)
    minutes = local.hour * 60 + local.minute
    return local.second == 0 and local.microsecond == 0 and minutes % grid_minutes == 0


def grid_instants(span: Interval, zone: ZoneInfo, grid_minutes: int) -> list[datetime]:
    """Every instant in `span` on which `is_on_grid` holds, sorted, each once."""
    first, last = local_dates(span, zone)
    points: list[datetime] = []
    day = first
    while day <= last:
        points += day_grid(day, zone, grid_minutes)
        day += _DAY
    points.sort()  # already sorted day by day; Timsort makes this a linear check
    return points[bisect_left(points, span.start) : bisect_left(points, span.end)]


def day_grid(day: date, zone: ZoneInfo, grid_minutes: int) -> list[datetime]:
    """The grid instants whose local reading falls on `day`, sorted."""
    frame = _frame(day, zone)
    if frame.regular:
        return [frame.start + step for step in _steps(grid_minutes)]
    midnight = datetime.combine(day, time())
    points: set[datetime] = set()
    for minute in range(0, MINUTES_PER_DAY, grid_minutes):
        naive = midnight + timedelta(minutes=minute)
        # Both folds: on a repeated reading they are two real instants, elsewhere the same
        # one; in a gap neither reads back as `naive`, so the skipped reading yields none.
        for fold in (0, 1):
            instant = naive.replace(tzinfo=zone, fold=fold).astimezone(UTC)
            if reading(instant, zone) == naive:
                points.add(instant)
    return sorted(points)


@cache
def _steps(grid_minutes: int) -> tuple[timedelta, ...]:
    return tuple(timedelta(minutes=m) for m in range(0, MINUTES_PER_DAY, grid_minutes))


@lru_cache(maxsize=8192)  # pure memo: a request touches the same few dozen dates many times
def _frame(day: date, zone: ZoneInfo) -> _DayFrame:
    midnight = datetime.combine(day, time())
    start = _resolve(midnight, zone)
    end = _resolve(midnight + _DAY, zone)
    regular = (
        end - start == _DAY
        and reading(start, zone) == midnight
        and start.astimezone(zone).utcoffset() == (end - _SECOND).astimezone(zone).utcoffset()
    )
    return _DayFrame(start, end, regular)


def _resolve(naive: datetime, zone: ZoneInfo) -> datetime:
    """The first instant whose reading is `naive`, or, if the clock skips it, the first after."""
    earliest = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if reading(earliest, zone) == naive:
        return earliest
    return _after_gap(naive, zone)


def _after_gap(naive: datetime, zone: ZoneInfo) -> datetime:
    """The transition instant that skips `naive`, found by bisection to the second.

    In a gap, PEP 495 maps ``fold=1`` by the post-transition offset (an instant before
    the jump) and ``fold=0`` by the pre-transition one (an instant after it): the jump lies
    between them, and it is the first instant whose reading is past `naive`.
    """
    before = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    after = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    low, high = 0, int((after - before).total_seconds())
    while high - low > 1:
        middle = (low + high) // 2
        if reading(before + timedelta(seconds=middle), zone) >= naive:
            high = middle
        else:
            low = middle
    return before + timedelta(seconds=high)
