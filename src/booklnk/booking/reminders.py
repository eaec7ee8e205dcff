"""When a booking's reminders go out: pure, from its start, its business's zone and rules.

A reminder a whole number of days before (the default, 1440 minutes) goes at the same
local wall-clock time that many days earlier, so "tomorrow at 10:00" is said at 10:00
whatever DST did in between (Cairo's clocks move in April and October: that day is 23 or
25 hours long). Any other offset is exact elapsed time ("in two hours"). Wall-clock times
resolve as the schedules do (`scheduling.localtime`): a repeated hour's first instance, a
skipped hour's first real instant after it.

Quiet hours (local, `quiet_hours_start`..`quiet_hours_end`, across midnight; equal: none)
hold reminders back: one that falls inside goes at their end, or, when that is too close
to the booking, just before they began. A reminder already past, or one moved to a time
not before the start, is not sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from booklnk.catalog.schedule_rules import MINUTES_PER_DAY
from booklnk.scheduling.localtime import first_instant, reading

# A reminder moved to the end of quiet hours must still leave this much before the start.
MIN_NOTICE = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class Reminder:
    minutes_before: int  # the rule it comes from: its name in messages and dedupe keys
    at: datetime  # UTC


@dataclass(frozen=True, slots=True)
class ReminderRules:
    offsets_minutes: tuple[int, ...]  # 0: that reminder is off
    quiet_hours_start: int  # local hour, 0..23
    quiet_hours_end: int


def plan(starts_at: datetime, zone: ZoneInfo, rules: ReminderRules, *, now: datetime) -> list[Reminder]:
    """The reminders of a booking starting at `starts_at`, earliest first, none in the past."""
    planned: dict[datetime, Reminder] = {}
    for offset in sorted({o for o in rules.offsets_minutes if o > 0}, reverse=True):
        at = _quiet_adjusted(_nominal(starts_at, zone, offset), starts_at, zone, rules)
        if at is not None and now < at < starts_at:
            planned.setdefault(at, Reminder(offset, at))  # two rules landing together: one message
    return sorted(planned.values(), key=lambda r: r.at)


def _nominal(starts_at: datetime, zone: ZoneInfo, offset: int) -> datetime:
    if offset % MINUTES_PER_DAY:
        return starts_at - timedelta(minutes=offset)
    local = reading(starts_at, zone)
    day = local.date() - timedelta(days=offset // MINUTES_PER_DAY)
    return first_instant(day, local.hour * 60 + local.minute, zone) + timedelta(seconds=local.second)


def _quiet_adjusted(
    at: datetime, starts_at: datetime, zone: ZoneInfo, rules: ReminderRules
) -> datetime | None:
    start, end = rules.quiet_hours_start, rules.quiet_hours_end
    local = reading(at, zone)
    if start == end or not _quiet(local.hour, start, end):
        return at
    # The quiet night this instant falls in: it began on the evening before when it is
    # already past midnight (a wrapped range), else today.
    began_on = local.date() - timedelta(days=1) if start > end and local.hour < end else local.date()
    ends_on = began_on + timedelta(days=1) if start > end else began_on
    after = first_instant(ends_on, end * 60, zone)
    if after <= starts_at - MIN_NOTICE:
        return after
    before = first_instant(began_on, start * 60, zone) - timedelta(minutes=1)
    return before if before < starts_at else None


def _quiet(hour: int, start: int, end: int) -> bool:
    return start <= hour < end if start < end else hour >= start or hour < end
