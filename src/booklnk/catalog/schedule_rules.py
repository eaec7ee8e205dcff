"""Pure checks of weekly hours, breaks, special-day hours and service durations (no I/O).

Wall-clock times are minutes since local midnight, 0..1440, where 1440 ("24:00") is the
end of the day; they are expanded to instants per date (and DST) by the availability
engine, never here. Every check returns ``FieldIssue``s, so one answer names every
problem, each at its field (``body.hours.3``) with a stable rule code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Final

from booklnk.kernel.errors import FieldIssue

MINUTES_PER_DAY: Final = 1440
WALL_CLOCK_PATTERN: Final = r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$"
_WALL_CLOCK = re.compile(WALL_CLOCK_PATTERN)


@dataclass(frozen=True, slots=True)
class Span:
    """A wall-clock interval inside one local day: [start, end) in minutes."""

    start: int
    end: int

    def contains(self, other: Span) -> bool:
        return self.start <= other.start and other.end <= self.end


@dataclass(frozen=True, slots=True)
class WeeklySpan:
    """A span on a weekday (0 = Monday .. 6 = Sunday)."""

    weekday: int
    span: Span


@dataclass(frozen=True, slots=True)
class WeeklySchedule:
    """An owner's recurring week: working hours, and breaks inside them."""

    hours: list[WeeklySpan] = field(default_factory=list)
    breaks: list[WeeklySpan] = field(default_factory=list)

    def sorted(self) -> WeeklySchedule:
        def key(w: WeeklySpan) -> tuple[int, int, int]:
            return (w.weekday, w.span.start, w.span.end)

        return WeeklySchedule(sorted(self.hours, key=key), sorted(self.breaks, key=key))


@dataclass(frozen=True, slots=True)
class DayOverride:
    """One local date on which an owner is closed, or open only during `hours`."""

    override_date: date
    closed: bool
    hours: list[Span] = field(default_factory=list)


def parse_wall_clock(text: str) -> int:
    """ "HH:MM" (00:00..23:59, or 24:00 for the end of the day) as minutes since midnight."""
    if not _WALL_CLOCK.match(text):
        raise ValueError(f"{text!r} is not a wall-clock time HH:MM")
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def format_wall_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def to_db_time(minutes: int) -> time:
    """The `time` stored for a wall-clock minute. PostgreSQL accepts 24:00 but Python's
    `time` (and so asyncpg) cannot, so the end of the day is stored as 00:00."""
    return time(minutes // 60 % 24, minutes % 60)


def from_db_time(value: time, *, is_end: bool) -> int:
    """Inverse of `to_db_time`: an interval ending at 00:00 ends at midnight (1440)."""
    minutes = value.hour * 60 + value.minute
    return MINUTES_PER_DAY if is_end and minutes == 0 else minutes


def check_day_spans(spans: Sequence[Span], *, field: str, overlap_rule: str) -> list[FieldIssue]:
    """Each span ends after it starts, and no two overlap (touching is fine)."""
    issues = _order_issues(enumerate(spans), field)
    valid = [(i, s) for i, s in enumerate(spans) if s.end > s.start]
    issues += _overlap_issues(valid, field, overlap_rule)
    return issues


def check_weekly(hours: Sequence[WeeklySpan], breaks: Sequence[WeeklySpan]) -> list[FieldIssue]:
    """Hours and breaks are each well-ordered and non-overlapping per weekday, and every
    break lies inside one working interval of its weekday (a break outside working hours
    means nothing and usually hides a typo)."""
    issues = _order_issues(((i, w.span) for i, w in enumerate(hours)), "body.hours")
    issues += _order_issues(((i, w.span) for i, w in enumerate(breaks)), "body.breaks")
    for weekday in range(7):
        day_hours = _valid_on(hours, weekday)
        day_breaks = _valid_on(breaks, weekday)
        issues += _overlap_issues(day_hours, "body.hours", "overlapping_hours")
        issues += _overlap_issues(day_breaks, "body.breaks", "overlapping_breaks")
        issues += [
            FieldIssue(
                f"body.breaks.{i}",
                "break_outside_hours",
                "A break must lie inside one working interval of the same weekday.",
            )
            for i, brk in day_breaks
            if not any(span.contains(brk) for _, span in day_hours)
        ]
    return issues


def check_override(override: DayOverride) -> list[FieldIssue]:
    """A closed day lists no hours; an open one lists at least one, without overlaps."""
    if override.closed and override.hours:
        return [FieldIssue("body.hours", "hours_when_closed", "A closed day cannot have opening hours.")]
    if not override.closed and not override.hours:
        return [FieldIssue("body.hours", "required", "List the day's special hours, or set closed to true.")]
    return check_day_spans(override.hours, field="body.hours", overlap_rule="overlapping_hours")


def check_period(starts_at: datetime, ends_at: datetime) -> list[FieldIssue]:
    """An absolute period: both instants carry an offset, and it is not empty."""
    issues = [
        FieldIssue(f"body.{name}", "timezone_aware", "Give the instant with its UTC offset.")
        for name, value in (("starts_at", starts_at), ("ends_at", ends_at))
        if value.utcoffset() is None
    ]
    if not issues and ends_at <= starts_at:
        issues.append(
            FieldIssue("body.ends_at", "end_not_after_start", "The end must be later than the start.")
        )
    return issues


def check_durations(durations: Sequence[int], *, grid_minutes: int) -> list[FieldIssue]:
    """Service durations are distinct positive multiples of the business type's slot grid."""
    issues: list[FieldIssue] = []
    for i, minutes in enumerate(durations):
        field = f"body.duration_options_minutes.{i}"
        if minutes <= 0 or minutes % grid_minutes:
            msg = f"{minutes} minutes is not a positive multiple of the {grid_minutes}-minute slot grid."
            issues.append(FieldIssue(field, "off_grid", msg))
        elif minutes in durations[:i]:
            issues.append(FieldIssue(field, "duplicate", f"{minutes} minutes is listed twice."))
    return issues


def _valid_on(spans: Sequence[WeeklySpan], weekday: int) -> list[tuple[int, Span]]:
    return [(i, w.span) for i, w in enumerate(spans) if w.weekday == weekday and w.span.end > w.span.start]


def _order_issues(indexed: Iterable[tuple[int, Span]], field: str) -> list[FieldIssue]:
    return [
        FieldIssue(f"{field}.{i}", "end_not_after_start", "The end must be later than the start.")
        for i, span in indexed
        if span.end <= span.start
    ]


def _overlap_issues(indexed: Sequence[tuple[int, Span]], field: str, rule: str) -> list[FieldIssue]:
    """Sweep in start order; a span starting before the furthest end seen so far overlaps.
    The issue names the later span (in start order), which is the one to move."""
    issues: list[FieldIssue] = []
    furthest_end = -1
    for i, span in sorted(indexed, key=lambda item: (item[1].start, item[1].end, item[0])):
        if span.start < furthest_end:
            issues.append(
                FieldIssue(f"{field}.{i}", rule, "This interval overlaps another one on the same day.")
            )
        furthest_end = max(furthest_end, span.end)
    return issues
