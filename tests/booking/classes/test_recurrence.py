"""Class recurrence rules (pure): the supported RFC 5545 subset parses or answers a named
422; expansion equals dateutil's (RFC 5545's reference implementation in Python) on that
subset; and the work is bounded whatever the rule, counted in months examined."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrule, rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st

from booklnk.booking.classes import recurrence
from booklnk.catalog.schemas import EARLIEST, LATEST
from booklnk.kernel.errors import ValidationFailed

UTC_ZONE = ZoneInfo("UTC")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
# Every walk stays inside the supported dates: at most their 2400 months.
SUPPORTED_MONTHS = (LATEST.year - EARLIEST.year + 1) * 12
WINDOW_MONTHS = 28  # the most months 800 consecutive days touch
PROPERTY = settings(max_examples=300, deadline=None)


@contextmanager
def months_examined() -> Iterator[list[int]]:
    """Counts the months the expander decides (each in O(1) integer work)."""
    examined = [0]
    decide = recurrence._month_mask

    def counted(rule: recurrence.Recurrence, year: int, month: int) -> int:
        examined[0] += 1
        return decide(rule, year, month)

    with mock.patch.object(recurrence, "_month_mask", counted):
        yield examined


def days_of(rule: recurrence.Recurrence, first: date, last: date) -> list[date]:
    return [start.date() for start in recurrence.occurrences(rule, time(), UTC_ZONE, first, last)]


def dateutil_days(text: str, starts_on: date, first: date, last: date) -> list[date]:
    """dateutil's dates of the rule in [first, last], UNTIL read as a local date, inclusive.

    dateutil walks period by period from DTSTART until it passes `last`, so a rule that
    never matches walks to the year 9999 (seconds per call: the defect under test). An
    UNTIL capped at `last` stops it there and changes no date up to `last`; with COUNT
    dateutil honours both (with a DeprecationWarning, silenced here)."""
    text = re.sub(r"UNTIL=(\d{8})(T\d{6}Z?)?", r"UNTIL=\1T235959", text, flags=re.IGNORECASE)
    rule = rrulestr(text, dtstart=datetime.combine(starts_on, time()))
    assert isinstance(rule, rrule)
    cap = datetime.combine(last, time(23, 59, 59))
    if until := re.search(r"UNTIL=(\d{4})(\d\d)(\d\d)", text, flags=re.IGNORECASE):
        cap = min(cap, datetime.combine(date(*map(int, until.groups())), time(23, 59, 59)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        capped = rule.replace(until=cap)
    return [found.date() for found in capped.between(datetime.combine(first, time()), cap, inc=True)]


def shifted(day: date, days: int) -> date:
    """`day` moved by `days`, kept within the supported dates."""
    return min(max(day + timedelta(days=days), EARLIEST), LATEST)


@st.composite
def supported_rules(draw: st.DrawFn) -> tuple[str, date]:
    """Any rule of the subset, its parts in any order and any letter case, and a starts_on."""
    frequency = draw(st.sampled_from(FREQUENCIES))
    starts_on = draw(st.dates(EARLIEST, LATEST))
    parts = [f"FREQ={frequency}"]
    if draw(st.booleans()):
        interval = draw(st.one_of(st.integers(1, 4), st.integers(1, recurrence.MAX_INTERVAL)))
        parts.append(f"INTERVAL={interval}")
    months = draw(st.one_of(st.just(set()), st.sets(st.integers(1, 12), min_size=1, max_size=6)))
    if months:
        parts.append("BYMONTH=" + ",".join(map(str, sorted(months))))
    numbered = frequency == "MONTHLY" or (frequency == "YEARLY" and months)
    kind = draw(st.sampled_from(["none", "plain", "numbered"] if numbered else ["none", "plain"]))
    if kind == "plain":
        parts.append("BYDAY=" + ",".join(WEEKDAYS[d] for d in draw(st.sets(st.integers(0, 6), min_size=1))))
    elif kind == "numbered":
        ordinals = st.integers(-recurrence.MAX_ORDINAL, recurrence.MAX_ORDINAL).filter(bool)
        days = draw(st.sets(st.tuples(ordinals, st.sampled_from(WEEKDAYS)), min_size=1, max_size=4))
        parts.append("BYDAY=" + ",".join(f"{n}{day}" for n, day in days))
    if frequency != "WEEKLY" and draw(st.booleans()):
        monthdays = draw(st.sets(st.integers(-31, 31).filter(bool), min_size=1, max_size=4))
        parts.append("BYMONTHDAY=" + ",".join(map(str, monthdays)))
    if draw(st.booleans()):
        parts.append("WKST=" + draw(st.sampled_from(WEEKDAYS)))
    end = draw(st.sampled_from(["none", "count", "until"]))
    if end == "count":
        parts.append(f"COUNT={draw(st.one_of(st.integers(1, 30), st.integers(1, recurrence.MAX_COUNT)))}")
    elif end == "until":
        until = shifted(starts_on, draw(st.integers(-30, 1500)))
        parts.append(f"UNTIL={until:%Y%m%d}" + draw(st.sampled_from(["", "T000000Z", "T093000"])))
    text = ";".join(draw(st.permutations(parts)))
    return (text.lower() if draw(st.booleans()) else text), starts_on


@PROPERTY
@given(rule=supported_rules(), data=st.data())
def test_expansion_equals_dateutil_on_the_subset(rule: tuple[str, date], data: st.DataObject) -> None:
    text, starts_on = rule
    parsed = recurrence.parse(text, starts_on)
    # Windows near starts_on (dateutil then answers in milliseconds), sometimes far after it
    # for the coarse frequencies, where COUNT must tally decades of dates before the window.
    far = parsed.frequency in ("MONTHLY", "YEARLY") and data.draw(st.booleans())
    offset = st.one_of(st.integers(-40, 60), st.integers(-40, 73_000 if far else 1500))
    first = shifted(starts_on, data.draw(offset))
    last = min(first + timedelta(days=data.draw(st.integers(0, recurrence.MAX_WINDOW_DAYS - 1))), LATEST)

    expected = dateutil_days(text, starts_on, first, last)
    assert days_of(parsed, first, last) == expected[: recurrence.MAX_OCCURRENCES]
    assert recurrence.next_date(parsed, first, last) == (expected[0] if expected else None)


@PROPERTY
@given(rule=supported_rules(), zone=st.sampled_from([UTC_ZONE, ZoneInfo("Africa/Cairo")]))
def test_next_date_is_the_first_date_dateutil_gives_after_it(rule: tuple[str, date], zone: ZoneInfo) -> None:
    text, starts_on = rule
    parsed = recurrence.parse(text, starts_on)
    found = recurrence.next_date(parsed, starts_on, LATEST)
    # Only then ask dateutil, over a window that ends on the date found, so that it stops.
    if found is not None and found - starts_on < timedelta(days=3000):
        assert dateutil_days(text, starts_on, starts_on, found)[:1] == [found]
        starts = recurrence.occurrences(parsed, time(18), zone, found, found)
        assert [start.astimezone(zone).date() for start in starts] == [found]


# Rule parts as a client might send them, the absurd included.
NAMES = ["FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "WKST", "BYSETPOS"]
NAMES += ["BYYEARDAY", "BYWEEKNO", "BYHOUR", "BYEASTER", "DTSTART", "X-NAME", "freq", "byday", ""]
VALUES = st.one_of(
    st.sampled_from((*FREQUENCIES, "HOURLY", "SECONDLY", "", "MO", "-1FR", "53MO", "0MO", "+1su,-5sa")),
    st.sampled_from(["20261231", "99991231", "00010101", "20261231T120000Z", "20260230", "2026123"]),
    st.integers(-(10**6), 10**6).map(str),
    st.lists(st.integers(-60, 60), min_size=1, max_size=6).map(lambda xs: ",".join(map(str, xs))),
    st.lists(st.tuples(st.integers(-60, 60), st.sampled_from(WEEKDAYS)), min_size=1, max_size=8).map(
        lambda xs: ",".join(f"{n or ''}{day}" for n, day in xs)
    ),
    st.text(max_size=12),
)
ANY_RULE = st.one_of(
    st.text(max_size=60),
    st.lists(st.tuples(st.sampled_from(NAMES), VALUES), max_size=8).map(
        lambda parts: ";".join(f"{name}={value}" for name, value in parts)
    ),
    # A good FREQ and each other known part at most once, so that the values are judged.
    st.fixed_dictionaries(
        {"FREQ": st.sampled_from(FREQUENCIES)}, optional=dict.fromkeys(NAMES[1:8], VALUES)
    ).map(lambda parts: ";".join(f"{name}={value}" for name, value in parts.items())),
    supported_rules().map(lambda rule: rule[0]),
)


def parsed_or_refused(text: str, starts_on: date) -> recurrence.Recurrence | ValidationFailed:
    try:
        return recurrence.parse(text, starts_on)
    except ValidationFailed as refused:
        return refused


@PROPERTY
@given(text=ANY_RULE, starts_on=st.one_of(st.dates(EARLIEST, LATEST), st.dates()), data=st.data())
def test_any_text_is_refused_by_name_or_expands_in_bounded_work(
    text: str, starts_on: date, data: st.DataObject
) -> None:
    rule = parsed_or_refused(text, starts_on)
    if isinstance(rule, ValidationFailed):
        [issue] = rule.issues
        assert issue.field in ("body.rrule", "body.starts_on")
        assert re.fullmatch(r"[a-z_]+", issue.rule)
        return
    # What bounds each month's work: the parts are sets over small domains, the numbers capped.
    assert EARLIEST <= rule.starts_on <= LATEST
    assert rule.interval in range(1, recurrence.MAX_INTERVAL + 1)
    assert rule.until is None or EARLIEST <= rule.until <= LATEST
    assert rule.count is None or 1 <= rule.count <= recurrence.MAX_COUNT
    assert rule.months <= set(range(1, 13))
    assert rule.monthdays <= set(range(-31, 32)) - {0}
    assert rule.weekdays <= set(range(7))
    assert len(rule.nth_weekdays) <= 7 * 2 * recurrence.MAX_ORDINAL

    # The longest window allowed, anywhere: the window's months, plus COUNT's tally from starts_on.
    first = data.draw(st.dates(EARLIEST, LATEST))
    last = first + timedelta(days=recurrence.MAX_WINDOW_DAYS - 1)
    with months_examined() as examined:
        days = days_of(rule, first, last)
    # With COUNT, the tally before the window and the window itself are two walks over the
    # supported months, which share one month when the window starts after its first day.
    assert examined[0] <= (SUPPORTED_MONTHS + 1 if rule.count else WINDOW_MONTHS)
    assert days == sorted(set(days))
    assert len(days) <= recurrence.MAX_OCCURRENCES
    assert all(max(first, rule.starts_on) <= day <= min(last, LATEST) for day in days)
    with months_examined() as examined:
        recurrence.next_date(rule, EARLIEST, LATEST)
    assert examined[0] <= SUPPORTED_MONTHS


def refusal(text: str, starts_on: date = date(2026, 11, 24)) -> tuple[str, str]:
    with pytest.raises(ValidationFailed) as refused:
        recurrence.parse(text, starts_on)
    [issue] = refused.value.issues
    return issue.field, issue.rule


def test_interval_zero_is_refused() -> None:
    # dateutil, given INTERVAL=0, never leaves the first period: expansion looped forever.
    assert refusal("FREQ=WEEKLY;INTERVAL=0") == ("body.rrule", "interval_out_of_range")
    assert refusal("FREQ=DAILY;INTERVAL=0;BYDAY=MO") == ("body.rrule", "interval_out_of_range")


NEVER = [
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=4,6,9,11",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;INTERVAL=4",  # from 2001: never a leap year
    "FREQ=MONTHLY;INTERVAL=12;BYMONTH=3",  # from January: only Januaries are in step
    "FREQ=DAILY;INTERVAL=7;BYDAY=MO",  # from a Tuesday: every 7th day is a Tuesday
]


@pytest.mark.parametrize("text", NEVER)
def test_a_rule_that_never_matches_expands_to_nothing(text: str) -> None:
    rule = recurrence.parse(text, date(2001, 1, 2))
    assert days_of(rule, date(2026, 1, 1), date(2028, 3, 9)) == []


@pytest.mark.parametrize("text", NEVER)
def test_a_rule_that_never_matches_is_seen_to_in_bounded_work(text: str) -> None:
    rule = recurrence.parse(text, date(2001, 1, 2))
    with months_examined() as examined:
        assert days_of(rule, date(2026, 1, 1), date(2028, 3, 9)) == []
    assert examined[0] == 27  # the window's months, not periods up to the year 9999
    with months_examined() as examined:
        assert recurrence.next_date(rule, date(2001, 1, 2), LATEST) is None
    assert examined[0] == SUPPORTED_MONTHS - 12  # 2001-01..2199-12, once each
    with months_examined() as examined:  # COUNT tallies from starts_on, once a month
        assert days_of(recurrence.parse(text + ";COUNT=3", date(2001, 1, 2)), LATEST, LATEST) == []
    assert examined[0] <= SUPPORTED_MONTHS


def test_weekly_never_takes_a_day_of_month() -> None:
    # The WEEKLY variant of the defect is refused outright (RFC 5545 forbids the part).
    assert refusal("FREQ=WEEKLY;BYMONTH=2;BYMONTHDAY=30") == ("body.rrule", "rrule_part_not_allowed")


@pytest.mark.parametrize(
    ("starts_on", "code"),
    [
        (date(1, 1, 1), "greater_than_equal"),
        (date(1999, 12, 31), "greater_than_equal"),
        (date(2200, 1, 1), "less_than_equal"),
        (date(9999, 12, 31), "less_than_equal"),
    ],
)
def test_starts_on_outside_the_supported_dates_is_refused(starts_on: date, code: str) -> None:
    assert refusal("FREQ=DAILY", starts_on) == ("body.starts_on", code)


def test_the_supported_dates_expand_to_their_ends() -> None:
    assert days_of(recurrence.parse("FREQ=DAILY", EARLIEST), EARLIEST, EARLIEST) == [EARLIEST]
    rule = recurrence.parse("FREQ=DAILY", LATEST - timedelta(days=1))
    # A window past the supported dates is cut at their end, never overflowing.
    assert days_of(rule, LATEST - timedelta(days=5), LATEST + timedelta(days=5)) == [
        LATEST - timedelta(days=1),
        LATEST,
    ]
    assert recurrence.next_date(rule, LATEST + timedelta(days=1), date.max) is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("FREQ=DAILY;COUNT=3;UNTIL=20261231", "count_and_until"),
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-1", "rrule_part_not_supported"),
        ("FREQ=YEARLY;BYYEARDAY=100", "rrule_part_not_supported"),
        ("FREQ=YEARLY;BYWEEKNO=20", "rrule_part_not_supported"),
        ("FREQ=WEEKLY;BYHOUR=9", "time_in_rule"),
        ("FREQ=WEEKLY;byminute=30", "time_in_rule"),
        ("FREQ=WEEKLY;BYSECOND=0", "time_in_rule"),
        ("DTSTART=20261124T090000;FREQ=WEEKLY", "time_in_rule"),
        ("DTSTART:20261124T090000\nRRULE:FREQ=WEEKLY", "time_in_rule"),
        ("FREQ=HOURLY", "frequency_not_allowed"),
        ("FREQ=FORTNIGHTLY", "frequency_not_allowed"),
        ("BYDAY=MO", "frequency_not_allowed"),
        ("FREQ=WEEKLY;BYEASTER=0", "rrule_part_unknown"),
        ("FREQ=WEEKLY;COLOR=RED", "rrule_part_unknown"),
        ("FREQ=WEEKLY;BYDAY=MO;BYDAY=TU", "rrule_part_repeated"),
        ("FREQ=WEEKLY;BYDAY=XX", "rrule_syntax"),
        ("FREQ=WEEKLY;BYDAY=MO,,TU", "rrule_syntax"),
        ("FREQ=WEEKLY;BYDAY=", "rrule_syntax"),
        ("FREQ=WEEKLY;", "rrule_syntax"),
        ("FREQ=WEEKLY;INTERVAL=two", "rrule_syntax"),
        ("FREQ=WEEKLY;INTERVAL=\u0662", "rrule_syntax"),  # an Arabic-Indic digit: ASCII only
        ("FREQ=WEEKLY;WKST=XX", "rrule_syntax"),
        ("FREQ=DAILY;UNTIL=20260230", "rrule_syntax"),
        ("FREQ=DAILY;UNTIL=2026-12-31", "rrule_syntax"),
        ("FREQ=DAILY;UNTIL=99991231", "until_out_of_range"),
        ("FREQ=DAILY;UNTIL=19991231T235959Z", "until_out_of_range"),
        ("FREQ=WEEKLY;INTERVAL=-1", "interval_out_of_range"),
        ("FREQ=WEEKLY;INTERVAL=367", "interval_out_of_range"),
        ("FREQ=DAILY;COUNT=0", "count_out_of_range"),
        ("FREQ=DAILY;COUNT=10001", "count_out_of_range"),
        ("FREQ=YEARLY;BYMONTH=13", "value_out_of_range"),
        ("FREQ=MONTHLY;BYMONTHDAY=0", "value_out_of_range"),
        ("FREQ=MONTHLY;BYMONTHDAY=-32", "value_out_of_range"),
        ("FREQ=MONTHLY;BYDAY=6MO", "value_out_of_range"),
        ("FREQ=MONTHLY;BYDAY=0MO", "value_out_of_range"),
        ("FREQ=WEEKLY;BYMONTHDAY=1", "rrule_part_not_allowed"),
        ("FREQ=WEEKLY;BYDAY=1MO", "byday_ordinal_not_allowed"),
        ("FREQ=DAILY;BYDAY=-1FR", "byday_ordinal_not_allowed"),
        ("FREQ=YEARLY;BYDAY=20MO", "byday_ordinal_not_allowed"),
        ("FREQ=MONTHLY;BYDAY=MO,1TU", "byday_ordinal_not_allowed"),
        ("FREQ=DAILY;" + "BYMONTH=1" + ",1" * 250, "rrule_syntax"),  # over 500 characters
    ],
)
def test_refused_rules_name_what_is_wrong(text: str, code: str) -> None:
    assert refusal(text) == ("body.rrule", code)


def test_todays_spellings_are_accepted() -> None:
    spellings = ["FREQ=WEEKLY;BYDAY=MO", "RRULE:FREQ=WEEKLY;BYDAY=MO", "rrule:freq=weekly;byday=mo"]
    spellings += [" Rrule:Freq=Weekly ; ByDay=+Mo ".replace("+", ""), "BYDAY=MO;FREQ=WEEKLY;WKST=MO"]
    rules = {recurrence.parse(text, date(2026, 11, 24)) for text in spellings}
    assert rules == {recurrence.Recurrence("WEEKLY", date(2026, 11, 24), weekdays=frozenset({0}))}


def on(year: int, month: int, *days: int) -> list[date]:
    return [date(year, month, day) for day in days]


def test_monthly_on_the_31st_skips_the_shorter_months() -> None:
    rule = recurrence.parse("FREQ=MONTHLY;COUNT=4", date(2026, 1, 31))
    assert days_of(rule, date(2026, 1, 1), date(2026, 12, 31)) == [
        date(2026, 1, 31),
        date(2026, 3, 31),
        date(2026, 5, 31),
        date(2026, 7, 31),
    ]


def test_numbered_weekdays_count_within_the_month() -> None:
    last_fridays = recurrence.parse("FREQ=MONTHLY;BYDAY=-1FR", date(2026, 1, 1))
    assert days_of(last_fridays, date(2026, 1, 1), date(2026, 3, 31)) == [
        date(2026, 1, 30),
        date(2026, 2, 27),
        date(2026, 3, 27),
    ]
    memorial_day = recurrence.parse("FREQ=YEARLY;BYMONTH=5;BYDAY=-1MO", date(2026, 1, 1))
    assert days_of(memorial_day, date(2026, 1, 1), date(2027, 12, 31)) == [
        date(2026, 5, 25),
        date(2027, 5, 31),
    ]


def test_wkst_decides_the_weeks_of_an_interval() -> None:
    # RFC 5545's own example (moved from 1997 to 2025, where 5 August is also a Tuesday).
    text = "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST="
    window = date(2025, 8, 1), date(2025, 9, 30)
    assert days_of(recurrence.parse(text + "MO", date(2025, 8, 5)), *window) == on(2025, 8, 5, 10, 19, 24)
    assert days_of(recurrence.parse(text + "SU", date(2025, 8, 5)), *window) == on(2025, 8, 5, 17, 19, 31)


def test_count_counts_only_the_dates_that_match() -> None:
    # starts_on is a Tuesday, not a Thursday: it is not an occurrence and is not counted.
    rule = recurrence.parse("FREQ=WEEKLY;BYDAY=TH;COUNT=2", date(2026, 11, 24))
    assert days_of(rule, date(2026, 11, 1), date(2026, 12, 31)) == [date(2026, 11, 26), date(2026, 12, 3)]
    assert recurrence.next_date(rule, date(2026, 12, 4), LATEST) is None


def test_count_tallies_the_dates_before_a_window_decades_later() -> None:
    leap_days = recurrence.parse("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;COUNT=26", EARLIEST)
    # 2000, 2004, ... 2096, then 2104 (2100 is not a leap year): the 26th is 2104-02-29.
    assert days_of(leap_days, date(2103, 1, 1), date(2104, 12, 31)) == [date(2104, 2, 29)]
    assert days_of(leap_days, date(2107, 1, 1), date(2108, 12, 31)) == []
    assert recurrence.next_date(leap_days, date(2097, 1, 1), LATEST) == date(2104, 2, 29)


def test_until_is_a_local_date_inclusive_in_every_spelling() -> None:
    for until in ("20261126", "20261126T000000", "20261126T000000Z"):
        rule = recurrence.parse(f"FREQ=DAILY;UNTIL={until}", date(2026, 11, 24))
        assert days_of(rule, date(2026, 11, 1), date(2026, 12, 31)) == on(2026, 11, 24, 25, 26)
    # An UNTIL before starts_on parses (the caller answers no_occurrences): nothing occurs.
    before = recurrence.parse("FREQ=WEEKLY;UNTIL=20261101", date(2026, 11, 24))
    assert recurrence.next_date(before, date(2026, 11, 24), LATEST) is None


def test_the_window_and_the_occurrences_are_capped() -> None:
    daily = recurrence.parse("FREQ=DAILY", date(2026, 1, 1))
    longest = date(2026, 1, 1), date(2026, 1, 1) + timedelta(days=recurrence.MAX_WINDOW_DAYS - 1)
    assert days_of(daily, *longest)[-1] == date(2026, 1, 1) + timedelta(days=recurrence.MAX_OCCURRENCES - 1)
    assert len(days_of(daily, *longest)) == recurrence.MAX_OCCURRENCES
    with pytest.raises(ValueError, match="at most 800 days"):
        days_of(daily, longest[0], longest[1] + timedelta(days=1))
    assert days_of(daily, date(2026, 2, 1), date(2026, 1, 31)) == []


def test_a_rule_that_never_falls_walks_each_supported_month_once() -> None:
    """Hypothesis found it: every 7 days from a Sunday, on Mondays, never falls; asking for the
    next date then examined one month more than the 2400 supported (an empty span before
    starts_on decided a month)."""
    rule = parsed_or_refused("FREQ=DAILY;INTERVAL=7;BYDAY=MO;COUNT=1", date(2000, 1, 2))
    assert not isinstance(rule, ValidationFailed)
    with months_examined() as examined:
        assert recurrence.next_date(rule, EARLIEST, LATEST) is None
    assert examined[0] <= SUPPORTED_MONTHS
