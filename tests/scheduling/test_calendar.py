"""Expanding wall-clock schedules into UTC intervals: breaks, overrides, time off and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from scheduling_support import (
    CAIRO,
    MINUTE,
    ZONES,
    MinuteMap,
    busy_intervals,
    iv,
    local,
    near_transitions,
    utc,
    weekly_schedules,
    ws,
)

from booklnk.catalog.schedule_rules import DayOverride, Span, WeeklySchedule
from booklnk.scheduling.calendar import expand_schedule, subtract_minute_spans
from booklnk.scheduling.intervals import Interval
from booklnk.scheduling.localtime import day_grid, day_start, first_instant, is_on_grid

MONDAY = date(2026, 3, 2)  # Cairo is on +02:00
SPRING = date(2026, 4, 24)  # Cairo: 00:00 jumps to 01:00 (+02:00 -> +03:00)
AUTUMN = date(2026, 10, 29)  # Cairo: 23:00-24:00 happens twice (+03:00, then +02:00)


def every_day(start: str, end: str, *breaks: tuple[str, str]) -> WeeklySchedule:
    return WeeklySchedule(
        [ws(d, start, end) for d in range(7)], [ws(d, a, b) for d in range(7) for a, b in breaks]
    )


def expand_day(schedule: WeeklySchedule, day: date, **kwargs: object) -> list[Interval]:
    return list(expand_schedule(schedule, CAIRO, first=day, last=day, **kwargs))  # type: ignore[arg-type]


def test_weekly_hours_minus_breaks_in_utc() -> None:
    week = WeeklySchedule([ws(0, "09:00", "17:00")], [ws(0, "13:00", "14:00")])
    assert expand_day(week, MONDAY) == [
        iv("2026-03-02T07:00", "2026-03-02T11:00"),
        iv("2026-03-02T12:00", "2026-03-02T15:00"),
    ]
    assert expand_day(week, MONDAY + timedelta(days=1)) == []  # no Tuesday hours


def test_hours_until_midnight_join_the_next_days_hours_from_midnight() -> None:
    week = every_day("00:00", "24:00")
    (whole,) = expand_schedule(week, CAIRO, first=MONDAY, last=MONDAY + timedelta(days=2))
    assert whole == iv("2026-03-01T22:00", "2026-03-04T22:00")


def test_override_closes_a_day_or_replaces_its_hours_and_breaks() -> None:
    week = every_day("09:00", "17:00", ("12:00", "13:00"))
    closed = DayOverride(MONDAY, closed=True)
    assert expand_day(week, MONDAY, overrides=[closed]) == []
    special = DayOverride(MONDAY, closed=False, hours=[Span(600, 660), Span(720, 780)])
    assert expand_day(week, MONDAY, overrides=[special]) == [
        iv("2026-03-02T08:00", "2026-03-02T09:00"),
        iv("2026-03-02T10:00", "2026-03-02T11:00"),  # 12:00-13:00 local: the weekly break is gone
    ]


def test_time_off_is_subtracted_across_days() -> None:
    week = every_day("09:00", "17:00")
    off = [iv("2026-03-02T13:00", "2026-03-03T09:00")]
    result = list(expand_schedule(week, CAIRO, first=MONDAY, last=MONDAY + timedelta(days=1), time_off=off))
    assert result == [iv("2026-03-02T07:00", "2026-03-02T13:00"), iv("2026-03-03T09:00", "2026-03-03T15:00")]


def test_spring_forward_intervals_start_at_the_first_real_instant_after_the_gap() -> None:
    weekday = SPRING.weekday()
    whole = WeeklySchedule([ws(weekday, "00:00", "03:00")])
    assert expand_day(whole, SPRING) == [iv("2026-04-23T22:00", "2026-04-24T00:00")]  # 2 real hours
    inside = WeeklySchedule([ws(weekday, "00:30", "02:00")])
    assert expand_day(inside, SPRING) == [iv("2026-04-23T22:00", "2026-04-23T23:00")]
    lost = WeeklySchedule([ws(weekday, "00:15", "00:45")])
    assert expand_day(lost, SPRING) == []
    assert first_instant(SPRING, 30, CAIRO) == local("2026-04-24T01:00", CAIRO)


def test_fall_back_interval_spanning_the_repeated_hour_lasts_its_true_length() -> None:
    weekday = AUTUMN.weekday()
    (late,) = expand_day(WeeklySchedule([ws(weekday, "22:00", "24:00")]), AUTUMN)
    assert late == iv("2026-10-29T19:00", "2026-10-29T22:00")
    assert late.duration == timedelta(hours=3)  # 23:00-24:00 counted twice
    # A wall time inside the repeated hour is the first time the clock shows it. (Compared
    # in UTC: PEP 495 makes a repeated-hour datetime unequal to every other zone's.)
    (early_close,) = expand_day(WeeklySchedule([ws(weekday, "22:00", "23:30")]), AUTUMN)
    assert early_close.end == local("2026-10-29T23:30", CAIRO, fold=0).astimezone(UTC)
    assert early_close.end == utc("2026-10-29T20:30")


def test_grid_on_the_cairo_dst_days() -> None:
    autumn = day_grid(AUTUMN, CAIRO, 30)
    assert len(autumn) == 50  # 25 hours
    repeated = [p for p in autumn if p.astimezone(CAIRO).hour == 23]
    assert repeated == [
        utc("2026-10-29T20:00"),
        utc("2026-10-29T20:30"),
        utc("2026-10-29T21:00"),
        utc("2026-10-29T21:30"),
    ]
    spring = day_grid(SPRING, CAIRO, 30)
    assert len(spring) == 46  # 23 hours
    assert spring[0] == utc("2026-04-23T22:00")  # 01:00, nothing from the skipped hour
    assert all(is_on_grid(p, CAIRO, 30) for p in autumn + spring)
    assert not is_on_grid(utc("2026-10-29T20:15"), CAIRO, 30)
    assert day_start(SPRING, CAIRO) == utc("2026-04-23T22:00")


def test_lord_howe_half_hour_shift() -> None:
    zone = ZoneInfo("Australia/Lord_Howe")
    back, forward = date(2026, 4, 5), date(2026, 10, 4)
    assert len(day_grid(back, zone, 30)) == 49  # 01:30-02:00 happens twice
    assert len(day_grid(forward, zone, 30)) == 47  # 02:00-02:30 never happens
    assert first_instant(forward, 2 * 60 + 10, zone) == local("2026-10-04T02:30", zone)


def test_subtract_minute_spans_merges_hours_and_cuts_breaks() -> None:
    hours = [Span(600, 720), Span(540, 600), Span(800, 900)]
    breaks = [Span(580, 610), Span(850, 1000)]
    assert subtract_minute_spans(hours, breaks) == [(540, 580), (610, 720), (800, 850)]


def _ambiguous(instant: datetime, zone: ZoneInfo) -> bool:
    reading = instant.astimezone(zone)
    return reading.replace(fold=1 - reading.fold).astimezone(UTC) != instant


def _working_at(schedule: WeeklySchedule, reading: datetime) -> bool:
    minute = reading.hour * 60 + reading.minute
    weekday = reading.weekday()
    in_hours = any(w.weekday == weekday and w.span.start <= minute < w.span.end for w in schedule.hours)
    in_break = any(w.weekday == weekday and w.span.start <= minute < w.span.end for w in schedule.breaks)
    return in_hours and not in_break


@st.composite
def expansion_cases(draw: st.DrawFn) -> tuple[ZoneInfo, date, WeeklySchedule, list[Interval]]:
    zone = draw(st.sampled_from(ZONES))
    day = draw(near_transitions(zone))
    span = Interval(day_start(day - timedelta(days=1), zone), day_start(day + timedelta(days=2), zone))
    return zone, day, draw(weekly_schedules()), draw(busy_intervals(span, max_count=3))


@settings(max_examples=60, deadline=None)
@given(expansion_cases())
def test_expansion_matches_the_wall_clock_minute_by_minute(
    case: tuple[ZoneInfo, date, WeeklySchedule, list[Interval]],
) -> None:
    """Every instant whose reading is unambiguous is working time iff its reading is inside
    that weekday's hours and outside its breaks and it is not time off. (Repeated readings
    are pinned by the Cairo tests above.)"""
    zone, day, schedule, time_off = case
    first, last = day - timedelta(days=1), day + timedelta(days=1)
    expanded = expand_schedule(schedule, zone, first=first, last=last, time_off=time_off)
    span = Interval(day_start(first, zone), day_start(last + timedelta(days=1), zone))
    minutes = MinuteMap(span)
    working, off = minutes.mask(expanded), minutes.mask(time_off)
    instant = span.start
    while instant < span.end:
        if not _ambiguous(instant, zone):
            expected = _working_at(schedule, instant.astimezone(zone)) and not off[minutes.index(instant)]
            assert bool(working[minutes.index(instant)]) == expected, instant.astimezone(zone)
        instant += MINUTE
