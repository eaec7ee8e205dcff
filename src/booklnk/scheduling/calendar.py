"""Expand an owner's wall-clock schedule into UTC intervals over a range of local dates. Pure.

An owner is the business (its opening hours), a staff member or a resource; the same
expansion serves all three, and the caller intersects a staff member's result with the
business's. Per local date the working time is:

* a date override, if there is one: closed (nothing), or its special hours, which
  replace that day's weekly hours AND breaks;
* otherwise the weekday's weekly hours minus the weekday's breaks;

then every span is resolved to instants by `localtime.first_instant` (DST rules there),
and the owner's time off (absolute UTC periods) is subtracted from the whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from booklnk.catalog.schedule_rules import DayOverride, Span, WeeklySchedule
from booklnk.scheduling.intervals import Interval, IntervalSet
from booklnk.scheduling.localtime import first_instant

MinuteSpan = tuple[int, int]
"""[start, end) in wall-clock minutes since local midnight (end may be 1440)."""


def expand_schedule(
    schedule: WeeklySchedule,
    zone: ZoneInfo,
    *,
    first: date,
    last: date,
    overrides: Iterable[DayOverride] = (),
    time_off: Iterable[Interval] = (),
) -> IntervalSet:
    """The owner's working time over local dates `first`..`last` (inclusive), in UTC."""
    week = weekly_minute_spans(schedule)
    by_date = {override.override_date: override for override in overrides}
    intervals: list[Interval] = []
    day = first
    while day <= last:
        override = by_date.get(day)
        spans = override_minute_spans(override) if override else week[day.weekday()]
        for start_minute, end_minute in spans:
            start = first_instant(day, start_minute, zone)
            end = first_instant(day, end_minute, zone)
            if start < end:  # a span lying wholly inside a skipped hour never happens
                intervals.append(Interval(start, end))
        day += timedelta(days=1)
    working = IntervalSet(intervals)
    off = IntervalSet(time_off)
    return working.subtract(off) if off else working


def weekly_minute_spans(schedule: WeeklySchedule) -> list[list[MinuteSpan]]:
    """Per weekday (0 = Monday), the hours minus the breaks, sorted and disjoint."""
    return [
        subtract_minute_spans(
            [w.span for w in schedule.hours if w.weekday == weekday],
            [w.span for w in schedule.breaks if w.weekday == weekday],
        )
        for weekday in range(7)
    ]


def override_minute_spans(override: DayOverride) -> list[MinuteSpan]:
    return [] if override.closed else subtract_minute_spans(override.hours, [])


def subtract_minute_spans(hours: Sequence[Span], breaks: Sequence[Span]) -> list[MinuteSpan]:
    """Merge `hours` (overlapping or touching ones join), then cut every break out of them."""
    merged: list[list[int]] = []
    for span in sorted(hours, key=lambda s: (s.start, s.end)):
        if span.end <= span.start:
            continue
        if merged and span.start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], span.end)
        else:
            merged.append([span.start, span.end])
    cuts = sorted((b.start, b.end) for b in breaks if b.end > b.start)
    result: list[MinuteSpan] = []
    for start, end in merged:
        cursor = start
        for cut_start, cut_end in cuts:
            if cut_end <= cursor or cut_start >= end:
                continue
            if cursor < cut_start:
                result.append((cursor, cut_start))
            cursor = max(cursor, cut_end)
        if cursor < end:
            result.append((cursor, end))
    return result
