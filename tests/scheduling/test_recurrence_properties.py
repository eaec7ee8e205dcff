"""Class recurrence (pure): RRULE dates at a local start time, across DST, checked with
hypothesis against a plain day-by-day oracle."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from scheduling_support import CAIRO, TRANSITIONS, ZONES

from booklnk.booking.classes import recurrence

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@st.composite
def weekly_rules(draw: st.DrawFn) -> tuple[str, frozenset[int]]:
    days = draw(st.sets(st.integers(0, 6), min_size=1))
    return "FREQ=WEEKLY;BYDAY=" + ",".join(WEEKDAYS[d] for d in sorted(days)), frozenset(days)


@st.composite
def start_days(draw: st.DrawFn, zone: ZoneInfo) -> date:
    """Any day of 2026, often a few days before one of the zone's transitions."""
    near = TRANSITIONS[zone.key]
    if near and draw(st.booleans()):
        return draw(st.sampled_from(near)) - timedelta(days=draw(st.integers(0, 6)))
    return date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 364)))


@given(data=st.data(), rule=weekly_rules(), hour=st.integers(0, 23), minute=st.sampled_from([0, 15, 30, 45]))
def test_occurrences_are_the_rule_days_at_the_local_start(
    data: st.DataObject, rule: tuple[str, frozenset[int]], hour: int, minute: int
) -> None:
    zone = data.draw(st.sampled_from(ZONES))
    first = data.draw(start_days(zone))
    last = first + timedelta(days=data.draw(st.integers(0, 40)))
    text, weekdays = rule
    starts = recurrence.occurrences(recurrence.parse(text, first), time(hour, minute), zone, first, last)

    expected_days = [
        first + timedelta(days=i)
        for i in range((last - first).days + 1)
        if (first + timedelta(days=i)).weekday() in weekdays
    ]
    assert [s.astimezone(zone).date() for s in starts] == expected_days
    assert starts == sorted(starts)
    for start in starts:
        wall = start.astimezone(zone)
        asked = datetime.combine(wall.date(), time(hour, minute))
        # At the asked wall time, or (a time skipped by DST) the first instant after the gap:
        # the clock read before it, and reads after it, one minute later.
        if wall.replace(tzinfo=None) != asked:
            before = (start - timedelta(minutes=1)).astimezone(zone)
            assert before.utcoffset() != wall.utcoffset()
            assert before.replace(tzinfo=None) < asked < wall.replace(tzinfo=None)


def test_cairo_skipped_and_repeated_hours() -> None:
    rule = recurrence.parse("FREQ=DAILY", date(2026, 4, 23))
    spring = recurrence.occurrences(rule, time(0, 30), CAIRO, date(2026, 4, 24), date(2026, 4, 24))
    # 00:30 never happens on 2026-04-24: the session starts when the clock jumps to 01:00.
    assert [s.astimezone(CAIRO).isoformat() for s in spring] == ["2026-04-24T01:00:00+03:00"]
    autumn = recurrence.occurrences(rule, time(23, 30), CAIRO, date(2026, 10, 29), date(2026, 10, 29))
    # 23:30 happens twice on 2026-10-29: the session is held once, at the first.
    assert [s.astimezone(CAIRO).isoformat() for s in autumn] == ["2026-10-29T23:30:00+03:00"]


def test_until_is_a_local_date_inclusive() -> None:
    rule = recurrence.parse("FREQ=DAILY;UNTIL=20261126T000000Z", date(2026, 11, 24))
    starts = recurrence.occurrences(rule, time(23, 0), CAIRO, date(2026, 11, 24), date(2026, 12, 31))
    assert [s.astimezone(CAIRO).date() for s in starts] == [date(2026, 11, d) for d in (24, 25, 26)]
