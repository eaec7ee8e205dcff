"""Builders, zones and minute-resolution oracles for the scheduling tests (pure, no database)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from booklnk.catalog.schedule_rules import Span, WeeklySchedule, WeeklySpan, parse_wall_clock
from booklnk.scheduling.intervals import Interval

CAIRO = ZoneInfo("Africa/Cairo")
ZONES = [
    ZoneInfo(name)
    for name in (
        "Africa/Cairo",
        "America/New_York",
        "Europe/London",
        "Asia/Kolkata",
        "UTC",
        "Australia/Lord_Howe",
    )
]
MINUTE = timedelta(minutes=1)


def utc(text: str) -> datetime:
    """An instant from ISO text; without an offset it is taken as UTC."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def local(text: str, zone: ZoneInfo, *, fold: int = 0) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone, fold=fold)


def iv(start: str, end: str) -> Interval:
    return Interval(utc(start), utc(end))


def ws(weekday: int, start: str, end: str) -> WeeklySpan:
    return WeeklySpan(weekday, Span(parse_wall_clock(start), parse_wall_clock(end)))


def staff_id(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def transition_days(zone: ZoneInfo, year: int = 2026) -> list[date]:
    """Local dates of `year` whose noon offset differs from the previous day's."""
    days, day = [], date(year, 1, 2)
    while day.year == year:
        today = datetime.combine(day, time(12), tzinfo=zone).utcoffset()
        yesterday = datetime.combine(day - timedelta(days=1), time(12), tzinfo=zone).utcoffset()
        if today != yesterday:
            days.append(day)
        day += timedelta(days=1)
    return days


TRANSITIONS = {zone.key: transition_days(zone) for zone in ZONES}


# --- strategies -----------------------------------------------------------------------


@st.composite
def near_transitions(draw: st.DrawFn, zone: ZoneInfo) -> date:
    """The day before or of a DST transition of `zone` half the time, else any 2026 day.
    (An explicit coin: `one_of` would almost always pick the much larger date range.)
    `TRANSITIONS` holds the first day whose noon has the new offset, so the change itself
    happens between the previous noon and that noon."""
    days = TRANSITIONS[zone.key]
    near = draw(st.booleans())
    if days and near:
        return draw(st.sampled_from(days)) - timedelta(days=draw(st.integers(0, 1)))
    return draw(st.dates(date(2026, 1, 3), date(2026, 12, 28)))


minute_of_day = st.integers(0, 1440 // 5).map(lambda n: n * 5) | st.integers(0, 1440)


@st.composite
def day_spans(draw: st.DrawFn, max_spans: int = 2, max_length: int = 1440) -> list[Span]:
    spans = []
    for _ in range(draw(st.integers(0, max_spans))):
        start = draw(minute_of_day.filter(lambda m: m < 1440))
        end = draw(st.integers(start + 1, min(1440, start + max_length)))
        spans.append(Span(start, end))
    return spans


@st.composite
def weekly_schedules(draw: st.DrawFn) -> WeeklySchedule:
    """Random weekly hours and breaks. Each weekday is, with equal chance: open all day
    (so DST transitions fall inside working time), a long working day, or random spans."""
    hours, breaks = [], []
    for weekday in range(7):
        shape = draw(st.integers(0, 2))
        if shape == 0:
            spans = [Span(0, 1440)]
        elif shape == 1:
            start = draw(st.integers(0, 600))
            spans = [Span(start, draw(st.integers(start + 480, 1440)))]
        else:
            spans = draw(day_spans())
        hours += [WeeklySpan(weekday, span) for span in spans]
        breaks += [WeeklySpan(weekday, span) for span in draw(day_spans(max_spans=1, max_length=90))]
    return WeeklySchedule(hours, breaks)


@st.composite
def busy_intervals(draw: st.DrawFn, span: Interval, max_count: int = 6) -> list[Interval]:
    """Random (possibly overlapping, unsorted) whole-minute intervals inside `span`."""
    total = int(span.duration / MINUTE)
    result = []
    for _ in range(draw(st.integers(0, max_count))):
        offset = draw(st.integers(0, total - 1))
        length = draw(st.integers(1, min(240, total - offset)))
        result.append(Interval(span.start + offset * MINUTE, span.start + (offset + length) * MINUTE))
    return result


# --- minute-resolution oracle ------------------------------------------------------------


class MinuteMap:
    """Per-minute truth over a span, built by slice assignment: independent of IntervalSet."""

    def __init__(self, span: Interval) -> None:
        self.origin = span.start
        self.size = int(span.duration / MINUTE)

    def index(self, instant: datetime) -> int:
        return int((instant - self.origin) / MINUTE)

    def mask(self, intervals: Iterable[Interval]) -> bytearray:
        marks = bytearray(self.size)
        for interval in intervals:
            low = max(0, self.index(interval.start))
            high = min(self.size, self.index(interval.end))
            if low < high:
                marks[low:high] = b"\x01" * (high - low)
        return marks

    def covers(self, marks: bytearray, interval: Interval) -> bool:
        low, high = self.index(interval.start), self.index(interval.end)
        return low >= 0 and high <= self.size and marks.find(0, low, high) == -1

    @staticmethod
    def both(a: bytearray, b: bytearray) -> bytearray:
        return bytearray(x & y for x, y in zip(a, b, strict=True))

    @staticmethod
    def without(a: bytearray, b: bytearray) -> bytearray:
        return bytearray(x & (1 - y) for x, y in zip(a, b, strict=True))


def grid_minutes_in(window: Interval, zone: ZoneInfo, grid: int) -> list[datetime]:
    """Brute force: every whole UTC minute of `window` whose local reading is on the grid."""
    result, instant = [], window.start
    while instant < window.end:
        reading = instant.astimezone(zone)
        if (reading.hour * 60 + reading.minute) % grid == 0:
            result.append(instant)
        instant += MINUTE
    return result
