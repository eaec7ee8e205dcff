"""Recurring class times: an RFC 5545 RRULE over local dates, at one local wall-clock
start, expanded into real instants. Pure, and bounded in work whatever the rule says.

The rule says which local dates; the start time is separate (a series runs "Mondays and
Wednesdays at 18:00", whatever the offset that day). Each occurrence resolves like the
schedules do (``scheduling.localtime.first_instant``): a start in a skipped hour moves to
the first real instant after the gap, a start in a repeated hour takes its first instant.

The subset (anything else answers 422 on ``body.rrule`` with a named rule code):

* FREQ=DAILY|WEEKLY|MONTHLY|YEARLY (required); INTERVAL=1..366; WKST=MO..SU.
* COUNT=1..10000 or UNTIL=YYYYMMDD[THHMMSS[Z]], not both (RFC 5545). UNTIL is read as a
  local date, inclusive, whatever time or `Z` it carries, because the series' dates are local.
* BYMONTH=1..12 (any FREQ); BYMONTHDAY=+-1..+-31 (not WEEKLY, as RFC 5545 says).
* BYDAY=MO,TU,... (any FREQ), or numbered (1MO, -1FR: +-1..+-5, within the month) with
  MONTHLY, or YEARLY with BYMONTH. Plain and numbered days are not mixed in one rule:
  dateutil, the reference, would require a day to be both and yield nothing.
* Refused: BYSETPOS, BYYEARDAY, BYWEEKNO; BYHOUR, BYMINUTE, BYSECOND, DTSTART (the time is
  start_time, the first date starts_on); unknown or repeated parts; starts_on or UNTIL
  outside 2000-01-01..2199-12-31, the dates the service supports.

Semantics are dateutil's (checked against it by property tests): DTSTART is starts_on at
00:00 and no date before it occurs; without BYDAY/BYMONTHDAY, WEEKLY takes starts_on's
weekday, MONTHLY its day of month and YEARLY its day and month (a day 31 skips shorter
months); the INTERVAL counts days, weeks (begun on WKST), months or years from those of
starts_on; every BY* part then keeps the dates it names; COUNT counts the dates that match.

Why the work is bounded: a date matches or not by its month, its day and its period, so
expansion walks MONTHS and decides a whole month at once with a few integer bit masks
(bit d-1 = day d), never iterating periods that yield nothing. Every walk lies inside
2000..2199 (2400 months): the window of `occurrences` is at most MAX_WINDOW_DAYS, and
COUNT's tally of the dates before it, like `next_date`, starts at starts_on >= 2000.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Final, Literal, cast
from zoneinfo import ZoneInfo

from booklnk.catalog.schemas import EARLIEST, LATEST
from booklnk.kernel.errors import ValidationFailed
from booklnk.scheduling.localtime import first_instant

Frequency = Literal["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]  # finer ones would flood a calendar

FIELD: Final = "body.rrule"
MAX_OCCURRENCES: Final = 500  # per materialisation: a year of daily classes fits
MAX_WINDOW_DAYS: Final = 800  # callers ask for at most the booking horizon (<= 730 days)
MAX_INTERVAL: Final = 366  # "every N days" up to a year; larger is a typo, not a timetable
MAX_COUNT: Final = 10_000  # 27 years of daily classes; longer series use UNTIL or nothing
MAX_RULE_LENGTH: Final = 500  # as the API accepts
MAX_ORDINAL: Final = 5  # a weekday occurs at most five times in a month

_FREQUENCIES: Final = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_WEEKDAYS: Final = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # index = date.weekday()
_KNOWN: Final = frozenset({"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "WKST"})
_TIME_PARTS: Final = frozenset({"BYHOUR", "BYMINUTE", "BYSECOND", "DTSTART"})
_UNSUPPORTED: Final = frozenset({"BYSETPOS", "BYYEARDAY", "BYWEEKNO"})
_NAME: Final = re.compile(r"[A-Z]+")
_INTEGER: Final = re.compile(r"[+-]?[0-9]+")
_DAY: Final = re.compile(r"([+-]?[0-9]+)?(MO|TU|WE|TH|FR|SA|SU)")
_UNTIL: Final = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})(?:T[0-9]{6}Z?)?")
_EVERY_WEEK: Final = sum(1 << (7 * i) for i in range(5))  # spreads a 7-day pattern over 35 days


@dataclass(frozen=True, slots=True)
class Recurrence:
    """A parsed rule, with the parts RFC 5545 takes from DTSTART filled in. Empty = any."""

    frequency: Frequency
    starts_on: date
    interval: int = 1
    count: int | None = None
    until: date | None = None  # local date, inclusive
    months: frozenset[int] = frozenset()  # BYMONTH, 1..12
    monthdays: frozenset[int] = frozenset()  # BYMONTHDAY, +-1..+-31
    weekdays: frozenset[int] = frozenset()  # BYDAY without a number, 0 = Monday
    nth_weekdays: frozenset[tuple[int, int]] = frozenset()  # (weekday, +-1..+-5) in the month
    week_start: int = 0  # WKST, 0 = Monday


def _invalid(rule: str, message: str) -> ValidationFailed:
    return ValidationFailed.on(FIELD, rule, message)


def _integer(name: str, text: str, low: int, high: int, rule: str = "value_out_of_range") -> int:
    if not _INTEGER.fullmatch(text):
        raise _invalid("rrule_syntax", f"{name} takes whole numbers, not {text!r}.")
    return _within(name, int(text), low, high, rule)


def _within(name: str, value: int, low: int, high: int, rule: str = "value_out_of_range") -> int:
    if not low <= value <= high or value == 0:  # 0 is never a day, month or ordinal
        span = f"1 to {high}" if low > 0 else f"-{high} to -1 or 1 to {high}"
        raise _invalid(rule, f"{name} must be {span}, not {value}.")
    return value


def _numbers(parts: dict[str, str], name: str, low: int, high: int) -> frozenset[int]:
    if name not in parts:
        return frozenset()
    return frozenset(_integer(name, item.strip(), low, high) for item in parts[name].split(","))


def _split(text: str) -> dict[str, str]:
    """NAME=value parts, checked for shape, known names and repeats."""
    body = text.strip()
    if len(body) > MAX_RULE_LENGTH or not body.isascii():
        raise _invalid("rrule_syntax", f"Not an RFC 5545 RRULE: at most {MAX_RULE_LENGTH} ASCII characters.")
    pairs = [part.partition("=") for part in body.upper().removeprefix("RRULE:").split(";")]
    if "DTSTART" in body.upper() or any(name.strip() in _TIME_PARTS for name, _, _ in pairs):
        message = "Give the time as start_time and the first date as starts_on, not in the rule."
        raise _invalid("time_in_rule", message)
    parts: dict[str, str] = {}
    for raw, equals, value in pairs:
        name = raw.strip()
        if not equals or not _NAME.fullmatch(name) or not value.strip():
            raise _invalid("rrule_syntax", f"Not an RFC 5545 RRULE: each part is NAME=value, not {raw!r}.")
        if name in _UNSUPPORTED:
            raise _invalid("rrule_part_not_supported", f"{name} is not supported: use BYDAY, BYMONTHDAY.")
        if name not in _KNOWN:
            raise _invalid("rrule_part_unknown", f"{name} is not an RRULE part this service knows.")
        if name in parts:
            raise _invalid("rrule_part_repeated", f"{name} is given twice.")
        parts[name] = value.strip()
    return parts


def _until(text: str) -> date:
    match = _UNTIL.fullmatch(text)
    try:
        day = date(*(int(group) for group in match.groups()[:3])) if match else None
    except ValueError:
        day = None
    if day is None:
        raise _invalid("rrule_syntax", f"UNTIL is a date like 20261231 or 20261231T235959Z, not {text!r}.")
    if not EARLIEST <= day <= LATEST:
        raise _invalid("until_out_of_range", f"UNTIL must lie between {EARLIEST} and {LATEST}.")
    return day


def _days(text: str) -> tuple[frozenset[int], frozenset[tuple[int, int]]]:
    plain: set[int] = set()
    numbered: set[tuple[int, int]] = set()
    for item in text.split(","):
        match = _DAY.fullmatch(item.strip())
        if match is None:
            raise _invalid("rrule_syntax", f"BYDAY takes MO to SU, maybe numbered (1MO, -1FR), not {item!r}.")
        weekday = _WEEKDAYS.index(match.group(2))
        if match.group(1) is None:
            plain.add(weekday)
        else:
            numbered.add((weekday, int(match.group(1))))  # checked once the frequency is known
    return frozenset(plain), frozenset(numbered)


def parse(text: str, starts_on: date) -> Recurrence:
    """The rule over local dates from `starts_on`, or 422 naming what is wrong with it."""
    # Worded as pydantic answers for the other dates out of range (CalendarDate).
    if starts_on < EARLIEST:
        message = f"Input should be greater than or equal to {EARLIEST}"
        raise ValidationFailed.on("body.starts_on", "greater_than_equal", message)
    if starts_on > LATEST:
        message = f"Input should be less than or equal to {LATEST}"
        raise ValidationFailed.on("body.starts_on", "less_than_equal", message)
    parts = _split(text)
    frequency = parts.get("FREQ")
    if frequency not in _FREQUENCIES:
        raise _invalid("frequency_not_allowed", "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY.")
    if "COUNT" in parts and "UNTIL" in parts:
        raise _invalid("count_and_until", "Give COUNT or UNTIL, not both (RFC 5545).")
    interval = _integer("INTERVAL", parts.get("INTERVAL", "1"), 1, MAX_INTERVAL, "interval_out_of_range")
    count: int | None = None
    if "COUNT" in parts:
        count = _integer("COUNT", parts["COUNT"], 1, MAX_COUNT, "count_out_of_range")
    until = _until(parts["UNTIL"]) if "UNTIL" in parts else None
    months = _numbers(parts, "BYMONTH", 1, 12)
    monthdays = _numbers(parts, "BYMONTHDAY", -31, 31)
    weekdays, nth_weekdays = _days(parts["BYDAY"]) if "BYDAY" in parts else (frozenset(), frozenset())
    if (week_start := parts.get("WKST", "MO")) not in _WEEKDAYS:
        raise _invalid("rrule_syntax", f"WKST takes a weekday MO to SU, not {week_start!r}.")
    if monthdays and frequency == "WEEKLY":
        raise _invalid("rrule_part_not_allowed", "BYMONTHDAY does not go with FREQ=WEEKLY (RFC 5545).")
    if nth_weekdays and not (frequency == "MONTHLY" or (frequency == "YEARLY" and months)):
        message = "A numbered BYDAY (1MO, -1FR) needs FREQ=MONTHLY, or YEARLY with BYMONTH."
        raise _invalid("byday_ordinal_not_allowed", message)
    if nth_weekdays and weekdays:
        raise _invalid("byday_ordinal_not_allowed", "BYDAY takes plain weekdays or numbered ones, not both.")
    for _, n in nth_weekdays:
        _within("A numbered BYDAY", n, -MAX_ORDINAL, MAX_ORDINAL)
    if not (weekdays or nth_weekdays or monthdays):  # RFC 5545: the rest comes from DTSTART
        if frequency == "WEEKLY":
            weekdays = frozenset({starts_on.weekday()})
        elif frequency in ("MONTHLY", "YEARLY"):
            monthdays = frozenset({starts_on.day})
            if frequency == "YEARLY" and not months:
                months = frozenset({starts_on.month})
    fields = (interval, count, until, months, monthdays, weekdays, nth_weekdays)
    return Recurrence(cast(Frequency, frequency), starts_on, *fields, _WEEKDAYS.index(week_start))


def occurrences(
    rule: Recurrence, start_time: time, zone: ZoneInfo, first_day: date, last_day: date
) -> list[datetime]:
    """The UTC start instants, in order, of the first MAX_OCCURRENCES occurrences whose
    local date is in [first_day, last_day]; a longer window than MAX_WINDOW_DAYS is a
    programming error (ValueError): callers expand up to the booking horizon."""
    if (last_day - first_day).days >= MAX_WINDOW_DAYS:
        raise ValueError(f"Expand at most {MAX_WINDOW_DAYS} days at a time, not {first_day}..{last_day}.")
    limit = MAX_OCCURRENCES if rule.count is None else rule.count - _count_before(rule, first_day)
    minute = start_time.hour * 60 + start_time.minute
    days: list[date] = []
    for day in _dates(rule, first_day, last_day):
        if len(days) >= min(limit, MAX_OCCURRENCES):
            break
        days.append(day)
    return [first_instant(day, minute, zone) for day in days]


def next_date(rule: Recurrence, on_or_after: date, until: date) -> date | None:
    """The first occurrence date in [on_or_after, until], or None. Any span within the
    supported dates: the walk from starts_on is at most their 2400 months."""
    if rule.count is not None and _count_before(rule, on_or_after) >= rule.count:
        return None
    return next(_dates(rule, on_or_after, until), None)


def _count_before(rule: Recurrence, day: date) -> int:
    """How many occurrences fall before `day` (counting stops once COUNT is reached)."""
    total = 0
    for _, _, mask in _masks(rule, rule.starts_on, max(day, rule.starts_on) - timedelta(days=1)):
        total += mask.bit_count()  # a whole month at once
        if rule.count is not None and total >= rule.count:
            break
    return total


def _dates(rule: Recurrence, first: date, last: date) -> Iterator[date]:
    """The rule's dates in [first, last], lazily, in order (COUNT aside)."""
    for year, month, mask in _masks(rule, first, last):
        while mask:
            lowest = mask & -mask
            yield date(year, month, lowest.bit_length())
            mask ^= lowest


def _masks(rule: Recurrence, first: date, last: date) -> Iterator[tuple[int, int, int]]:
    """(year, month, days) for each month of [first, last] holding dates of the rule,
    clipped to starts_on, UNTIL and the supported dates: at most 2400 months."""
    first = max(first, rule.starts_on, EARLIEST)
    last = min(last, rule.until or LATEST, LATEST)
    if first > last:  # (an empty span decides no month: the 2400-month bound stays exact)
        return
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        mask = _month_mask(rule, year, month)
        if (year, month) == (first.year, first.month):
            mask &= -1 << (first.day - 1)
        if (year, month) == (last.year, last.month):
            mask &= (1 << last.day) - 1
        if mask:
            yield year, month, mask
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)


def _month_mask(rule: Recurrence, year: int, month: int) -> int:
    """The days of the month the rule keeps (bit d-1 for day d), in O(1) integer work."""
    start = rule.starts_on
    if rule.months and month not in rule.months:
        return 0
    if rule.frequency == "YEARLY" and (year - start.year) % rule.interval:
        return 0
    if rule.frequency == "MONTHLY" and ((year - start.year) * 12 + month - start.month) % rule.interval:
        return 0
    weekday, length = calendar.monthrange(year, month)
    mask = (1 << length) - 1
    if rule.monthdays:
        mask &= _monthday_mask(rule.monthdays, length)
    if rule.weekdays:
        mask &= _weekday_mask(rule.weekdays, weekday)
    if rule.nth_weekdays:
        mask &= _nth_weekday_mask(rule.nth_weekdays, weekday, length)
    if rule.interval > 1 and rule.frequency == "DAILY":  # day indexes offset + k * INTERVAL
        offset = (start.toordinal() - date(year, month, 1).toordinal()) % rule.interval
        mask &= sum(1 << i for i in range(offset, length, rule.interval))  # <= 16 terms
    if rule.interval > 1 and rule.frequency == "WEEKLY":
        mask &= _week_mask(rule, date(year, month, 1).toordinal())
    return mask


@lru_cache(maxsize=512)
def _monthday_mask(monthdays: frozenset[int], length: int) -> int:
    days = (day if day > 0 else length + 1 + day for day in monthdays)
    return sum(1 << (day - 1) for day in set(days) if 1 <= day <= length)


@lru_cache(maxsize=512)
def _weekday_mask(weekdays: frozenset[int], first_weekday: int) -> int:
    """Days 1..35 falling on `weekdays` in a month whose day 1 is `first_weekday`."""
    return _EVERY_WEEK * sum(1 << i for i in range(7) if (first_weekday + i) % 7 in weekdays)


@lru_cache(maxsize=512)
def _nth_weekday_mask(nth_weekdays: frozenset[tuple[int, int]], first_weekday: int, length: int) -> int:
    last_weekday = (first_weekday + length - 1) % 7
    mask = 0
    for weekday, n in nth_weekdays:  # 0-based day index; out of the month: no such day
        index = (
            (weekday - first_weekday) % 7 + 7 * (n - 1)
            if n > 0
            else length - 1 - (last_weekday - weekday) % 7 + 7 * (n + 1)
        )
        if 0 <= index < length:
            mask |= 1 << index
    return mask


def _week_mask(rule: Recurrence, first_ordinal: int) -> int:
    """The days of the month in weeks (begun on WKST) 0, INTERVAL, 2 INTERVAL... after the
    week of starts_on. Day ordinal o is in week (o - 1 - WKST) // 7: ordinal 1 is a Monday."""
    week, lead = divmod(first_ordinal - 1 - rule.week_start, 7)  # lead: days of it before day 1
    week -= (rule.starts_on.toordinal() - 1 - rule.week_start) // 7
    mask = 0
    for j in range(6):  # a month touches at most six weeks
        if (week + j) % rule.interval == 0:
            low, high = max(0, 7 * j - lead), 7 * j + 7 - lead
            mask |= (1 << high) - (1 << low)
    return mask & ((1 << 31) - 1)
