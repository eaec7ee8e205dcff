"""Recurring class times: an RFC 5545 RRULE over local dates, at one local wall-clock
start, expanded into real instants. Pure.

The rule says which local dates; the start time is separate (a series runs "Mondays and
Wednesdays at 18:00", whatever the offset that day). Each occurrence resolves like the
schedules do (``scheduling.localtime``): a start in a skipped hour moves to the first
real instant after the gap, a start in a repeated hour takes its first instant. UNTIL is
read as a local date, inclusive, whatever time or `Z` it carries, because the series'
dates are local.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Final
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from booklnk.kernel.errors import ValidationFailed
from booklnk.scheduling.localtime import first_instant

FIELD: Final = "body.rrule"
MAX_OCCURRENCES: Final = 500  # per materialisation: a year of daily classes fits
_FREQUENCIES: Final = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}  # finer ones would flood a calendar
_FREQ: Final = re.compile(r"(?:^|;)FREQ=(\w+)", re.IGNORECASE)
_TIME_PARTS: Final = re.compile(r"(^|;)(BYHOUR|BYMINUTE|BYSECOND|DTSTART)=", re.IGNORECASE)
_UNTIL: Final = re.compile(r"UNTIL=(\d{8})(T\d{6}Z?)?", re.IGNORECASE)


def parse(rule: str, starts_on: date) -> rrule:
    """The rule over local dates from `starts_on`, or 422 naming what is wrong with it."""
    text = rule.strip().removeprefix("RRULE:").removeprefix("rrule:")
    if _TIME_PARTS.search(text):
        raise ValidationFailed.on(
            FIELD,
            "time_in_rule",
            "Give the time as start_time and the first date as starts_on, not in the rule.",
        )
    text = _UNTIL.sub(lambda m: f"UNTIL={m.group(1)}T235959", text)
    try:
        parsed = rrulestr(text, dtstart=datetime.combine(starts_on, time()))
    except (ValueError, TypeError) as exc:
        raise ValidationFailed.on(FIELD, "rrule_syntax", f"Not an RFC 5545 RRULE: {exc}.") from None
    frequency = _FREQ.search(text)
    if not isinstance(parsed, rrule) or frequency is None or frequency.group(1).upper() not in _FREQUENCIES:
        raise ValidationFailed.on(
            FIELD, "frequency_not_allowed", "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY."
        )
    return parsed


def occurrences(
    rule: rrule, start_time: time, zone: ZoneInfo, first_day: date, last_day: date
) -> list[datetime]:
    """The UTC start instants of the occurrences whose local date is in [first_day, last_day]."""
    days = rule.between(datetime.combine(first_day, time()), datetime.combine(last_day, time()), inc=True)[
        :MAX_OCCURRENCES
    ]
    minute = start_time.hour * 60 + start_time.minute
    return [first_instant(day.date(), minute, zone) for day in days]
