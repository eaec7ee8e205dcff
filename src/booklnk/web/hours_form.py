"""Reading and showing the hours forms (pure, no I/O): a week of up to two periods a day,
the gap between them being the day's break; special hours over a range of dates; a
staff member's time off in the business's wall-clock time. Both the first-run setup and
the hours settings read their forms here. A refusal names its form field, and `problem`
words it in the reader's language."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from itertools import pairwise
from typing import Final
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton

from booklnk.catalog.schedule_rules import (
    MINUTES_PER_DAY,
    Span,
    WeeklySchedule,
    WeeklySpan,
    format_wall_clock,
    parse_wall_clock,
)
from booklnk.catalog.schedules import MAX_SPECIAL_DAYS, Period
from booklnk.kernel.errors import FieldIssue, ValidationFailed
from booklnk.scheduling.calendar import MinuteSpan, weekly_minute_spans
from booklnk.scheduling.localtime import first_instant
from booklnk.web import presenting
from booklnk.web.words import WORDS

# Periods a day on the forms (a break is the gap between two): the form's fields stay
# under the guard's MAX_FIELDS (7 days x (1 + 2 x 2) + token and owner = 37).
PERIODS_PER_DAY: Final = 2
# The first period keeps the names the first-run form always had (`start_0`, `end_0`).
PERIOD_FIELDS: Final = (("start", "end"), ("start2", "end2"))
MAX_TIME_OFF_DAYS: Final = 366
MAX_REASON: Final = 200  # the column's length
# Dates a form may name: far enough for any booking, near enough that a day's instants
# (and the next day's midnight) always exist.
FIRST_YEAR, LAST_YEAR = 2000, 2199
DEFAULT_OPEN, DEFAULT_CLOSE = "10:00", "22:00"
# Friday is the weekend most Egyptian shops close on.
DEFAULT_CLOSED_DAYS: Final = frozenset({4})
_DAY_FIELD = re.compile(r"^(start|end)(2?)_([0-6])$")
_RANGE_FIELD = re.compile(r"^(start|end)(2?)$")


def parse_week(posted: Mapping[str, str]) -> WeeklySchedule:
    """The week a form describes: each open day's periods as one working span from the
    first opening to the last closing, with the gap between the periods as a break."""
    hours, breaks = [], []
    for day in range(7):
        if posted.get(f"open_{day}") != "on":
            continue
        working, gaps = with_breaks(parse_periods(posted, f"_{day}"))
        hours.append(WeeklySpan(day, working))
        breaks += [WeeklySpan(day, gap) for gap in gaps]
    return WeeklySchedule(hours=hours, breaks=breaks)


def parse_periods(posted: Mapping[str, str], suffix: str = "") -> list[Span]:
    """A day's periods, in order: the first is required, the second optional (both its
    times empty); each ends after it starts, and the two do not overlap."""
    spans: list[Span] = []
    for position, (start_name, end_name) in enumerate(PERIOD_FIELDS):
        start_field, end_field = f"{start_name}{suffix}", f"{end_name}{suffix}"
        start_text, end_text = posted.get(start_field, "").strip(), posted.get(end_field, "").strip()
        if position > 0 and not start_text and not end_text:
            continue
        span = Span(_wall_clock(start_text, start_field), _wall_clock(end_text, end_field))
        if span.end <= span.start:
            raise _refused(end_field, "end_not_after_start", "The end must be later than the start.")
        if any(span.start < other.end and other.start < span.end for other in spans):
            raise _refused(start_field, "overlapping_hours", "The two periods overlap.")
        spans.append(span)
    return sorted(spans, key=lambda s: s.start)


def with_breaks(spans: Sequence[Span]) -> tuple[Span, list[Span]]:
    """Sorted, disjoint periods as one working span and the gaps inside it (touching
    periods leave no gap)."""
    gaps = [Span(a.end, b.start) for a, b in pairwise(spans) if b.start > a.end]
    return Span(spans[0].start, spans[-1].end), gaps


def parse_dates(posted: Mapping[str, str], first: str = "from", last: str = "to") -> tuple[date, date]:
    return _date(posted, first), _date(posted, last)


def parse_time_off(posted: Mapping[str, str], zone: ZoneInfo) -> Period:
    """From a day (at a time, else its start) to a day (at a time, else its end), in the
    business's wall-clock time; a time a clock change skips is its first real instant."""
    first, last = parse_dates(posted, "off_from", "off_to")
    start = _optional_clock(posted, "off_start", 0)
    end = _optional_clock(posted, "off_end", MINUTES_PER_DAY)
    if not 0 <= (last - first).days < MAX_TIME_OFF_DAYS:
        raise _refused("off_to", "valid_window", f"Give 1 to {MAX_TIME_OFF_DAYS} days.")
    starts_at, ends_at = first_instant(first, start, zone), first_instant(last, end, zone)
    if ends_at <= starts_at:
        raise _refused("off_end", "end_not_after_start", "The end must be later than the start.")
    reason = posted.get("reason", "").strip()
    if len(reason) > MAX_REASON:
        raise _refused("reason", "too_long", f"At most {MAX_REASON} characters.")
    return Period(starts_at, ends_at, reason)


@dataclass(frozen=True, slots=True)
class DayRow:
    """One weekday as the week form shows it."""

    day: int
    name: str
    open: bool
    periods: list[tuple[str, str]]  # PERIODS_PER_DAY of them, ("", "") for none
    more: bool = False  # more periods are saved than the form shows


def week_rows(week: WeeklySchedule, language: str) -> list[DayRow]:
    """The saved week as the form's rows, Saturday first; an empty week shows the usual
    shop's hours to start from."""
    effective = weekly_minute_spans(week)
    rows = []
    for day in presenting.WEEK_FROM_SATURDAY:
        spans = effective[day]
        # A closed day offers the usual hours, ready for the day it opens.
        periods = [_clock_pair(span) for span in spans] or [(DEFAULT_OPEN, DEFAULT_CLOSE)]
        is_open = bool(spans) if week.hours else day not in DEFAULT_CLOSED_DAYS
        rows.append(_row(day, language, is_open, periods))
    return rows


def posted_rows(posted: Mapping[str, str], language: str) -> list[DayRow]:
    """The week form as it was sent (to show it again with its problem named)."""
    return [
        _row(
            day,
            language,
            posted.get(f"open_{day}") == "on",
            [(posted.get(f"{s}_{day}", "")[:5], posted.get(f"{e}_{day}", "")[:5]) for s, e in PERIOD_FIELDS],
        )
        for day in presenting.WEEK_FROM_SATURDAY
    ]


@dataclass(frozen=True, slots=True)
class DateGroup:
    """Consecutive special dates with the same hours, shown (and deleted) as one."""

    first: date
    last: date
    closed: bool
    hours: list[str] = field(default_factory=list)
    label: str = ""  # the dates as read: "Thu, Nov 26" or "Thu, Nov 26 - Sat, Nov 28"


def group_dates(days: Sequence[tuple[date, bool, Sequence[Span]]], language: str) -> list[DateGroup]:
    groups: list[DateGroup] = []
    for day, closed, spans in sorted(days, key=lambda d: d[0]):
        hours = [] if closed else [_spoken(span, language) for span in spans]
        last = groups[-1] if groups else None
        if last and last.last + timedelta(days=1) == day and (last.closed, last.hours) == (closed, hours):
            groups[-1] = DateGroup(last.first, day, closed, hours)
        else:
            groups.append(DateGroup(day, day, closed, hours))
    return [replace(g, label=_dates_label(g.first, g.last, language)) for g in groups]


def problem(language: str, issue: FieldIssue) -> str:
    """A refused field in the reader's words: which field, then what to do."""
    words = WORDS[language]
    name = issue.field.removeprefix("form.")
    rule = words.get(f"hours_rule_{issue.rule}", words["hours_rule_invalid"])
    days = MAX_TIME_OFF_DAYS if name.startswith("off_") else MAX_SPECIAL_DAYS
    rule = rule.format(days=days, first_year=FIRST_YEAR, last_year=LAST_YEAR)
    label = field_label(name, language)
    return f"{label}{'، ' if language == 'ar' else ', '}{rule}" if label else rule


def field_label(name: str, language: str) -> str:
    """ "Monday, First period, From" for `start_0`; "" for a field no form here shows."""
    words = WORDS[language]
    comma = "، " if language == "ar" else ", "
    parts: list[str] = []
    if day_field := _DAY_FIELD.match(name):
        parts.append(presenting.weekday_name(int(day_field.group(3)), language))
    if found := (day_field or _RANGE_FIELD.match(name)):
        parts.append(words["hours_period_2" if found.group(2) else "hours_period_1"])
        parts.append(words["hours_opens" if found.group(1) == "start" else "hours_closes"])
        return comma.join(parts)
    return words.get(f"hours_field_{name}", "")


def _row(day: int, language: str, is_open: bool, periods: list[tuple[str, str]]) -> DayRow:
    shown = (periods + [("", "")] * PERIODS_PER_DAY)[:PERIODS_PER_DAY]
    return DayRow(day, presenting.weekday_name(day, language), is_open, shown, len(periods) > PERIODS_PER_DAY)


def _clock_pair(span: MinuteSpan) -> tuple[str, str]:
    return format_wall_clock(span[0]), format_wall_clock(span[1])


def _spoken(span: Span, language: str) -> str:
    return f"{presenting.wall_clock(span.start, language)} \u2013 {presenting.wall_clock(span.end, language)}"


def _dates_label(first: date, last: date, language: str) -> str:
    def short(day: date) -> str:
        return str(format_skeleton("MMMEd", day, locale=presenting.LOCALES[language]))

    return short(first) if first == last else f"{short(first)} \u2013 {short(last)}"


def _wall_clock(text: str, name: str) -> int:
    try:
        return parse_wall_clock(text)
    except ValueError:
        raise _refused(name, "wall_clock", "Give times as HH:MM.") from None


def _optional_clock(posted: Mapping[str, str], name: str, default: int) -> int:
    text = posted.get(name, "").strip()
    return _wall_clock(text, name) if text else default


def _date(posted: Mapping[str, str], name: str) -> date:
    text = posted.get(name, "").strip()
    if not text:
        raise _refused(name, "required", "Pick a date.")
    try:
        found = date.fromisoformat(text)
    except ValueError:
        raise _refused(name, "date", "Pick a date.") from None
    if not FIRST_YEAR <= found.year <= LAST_YEAR:
        raise _refused(name, "date_range", f"Pick a date from {FIRST_YEAR} to {LAST_YEAR}.")
    return found


def _refused(name: str, rule: str, message: str) -> ValidationFailed:
    return ValidationFailed.on(f"form.{name}", rule, message)
