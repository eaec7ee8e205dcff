"""The pure schedule checks: no database, milliseconds each."""

from __future__ import annotations

from datetime import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booklnk.catalog.schedule_rules import (
    Span,
    WeeklySpan,
    check_day_spans,
    check_durations,
    check_weekly,
    format_wall_clock,
    from_db_time,
    parse_wall_clock,
    to_db_time,
)


def ws(weekday: int, start: str, end: str) -> WeeklySpan:
    return WeeklySpan(weekday, Span(parse_wall_clock(start), parse_wall_clock(end)))


def rules(issues: list[object]) -> list[tuple[str, str]]:
    return [(i.field, i.rule) for i in issues]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "minutes"), [("00:00", 0), ("09:30", 570), ("23:59", 1439), ("24:00", 1440)]
)
def test_wall_clock_round_trips(text: str, minutes: int) -> None:
    assert parse_wall_clock(text) == minutes
    assert format_wall_clock(minutes) == text


@pytest.mark.parametrize("text", ["24:01", "25:00", "9:30", "09:60", "0930", ""])
def test_wall_clock_rejects_malformed(text: str) -> None:
    with pytest.raises(ValueError, match="wall-clock"):
        parse_wall_clock(text)


def test_end_of_day_is_stored_as_midnight_and_read_back_as_1440() -> None:
    assert to_db_time(1440) == time(0, 0)
    assert from_db_time(time(0, 0), is_end=True) == 1440
    assert from_db_time(time(0, 0), is_end=False) == 0
    assert from_db_time(to_db_time(570), is_end=True) == 570


def test_a_sound_week_has_no_issues() -> None:
    hours = [ws(0, "09:00", "13:00"), ws(0, "14:00", "24:00"), ws(1, "00:00", "24:00")]
    breaks = [ws(0, "10:00", "10:15"), ws(1, "12:00", "13:00")]
    assert check_weekly(hours, breaks) == []


def test_end_before_start_names_the_interval() -> None:
    assert rules(check_weekly([ws(2, "17:00", "09:00")], [])) == [("body.hours.0", "end_not_after_start")]


def test_empty_interval_is_rejected() -> None:
    assert rules(check_weekly([ws(2, "09:00", "09:00")], [])) == [("body.hours.0", "end_not_after_start")]


def test_overlap_names_the_later_interval_whatever_the_list_order() -> None:
    hours = [ws(0, "12:00", "18:00"), ws(1, "09:00", "13:00"), ws(0, "09:00", "13:00")]
    assert rules(check_weekly(hours, [])) == [("body.hours.0", "overlapping_hours")]


def test_touching_intervals_and_other_weekdays_do_not_overlap() -> None:
    hours = [ws(0, "09:00", "12:00"), ws(0, "12:00", "15:00"), ws(1, "10:00", "11:00")]
    assert check_weekly(hours, []) == []


def test_break_outside_hours_or_spanning_two_intervals_is_rejected() -> None:
    hours = [ws(0, "09:00", "12:00"), ws(0, "12:00", "17:00")]
    breaks = [ws(0, "11:30", "12:30"), ws(3, "10:00", "11:00")]
    assert rules(check_weekly(hours, breaks)) == [
        ("body.breaks.0", "break_outside_hours"),
        ("body.breaks.1", "break_outside_hours"),
    ]


def test_overlapping_breaks_are_rejected() -> None:
    hours = [ws(4, "09:00", "17:00")]
    breaks = [ws(4, "12:00", "13:00"), ws(4, "12:30", "12:45")]
    assert rules(check_weekly(hours, breaks)) == [("body.breaks.1", "overlapping_breaks")]


def test_day_spans_report_order_and_overlap() -> None:
    spans = [Span(600, 720), Span(700, 800), Span(900, 850)]
    assert rules(check_day_spans(spans, field="body.hours", overlap_rule="overlapping_hours")) == [
        ("body.hours.2", "end_not_after_start"),
        ("body.hours.1", "overlapping_hours"),
    ]


def test_durations_on_the_grid_pass() -> None:
    assert check_durations([15, 30, 60], grid_minutes=15) == []


def test_durations_off_the_grid_or_repeated_are_named() -> None:
    assert rules(check_durations([30, 40, 30, 0], grid_minutes=15)) == [
        ("body.duration_options_minutes.1", "off_grid"),
        ("body.duration_options_minutes.2", "duplicate"),
        ("body.duration_options_minutes.3", "off_grid"),
    ]


spans = st.builds(lambda a, b: Span(min(a, b), max(a, b) + 1), st.integers(0, 1438), st.integers(0, 1438))


@given(st.lists(spans, max_size=8))
def test_overlap_is_reported_iff_some_pair_overlaps(day: list[Span]) -> None:
    pairwise = any(a.start < b.end and b.start < a.end for i, a in enumerate(day) for b in day[i + 1 :])
    issues = check_day_spans(day, field="f", overlap_rule="overlap")
    assert bool(issues) == pairwise
    assert all(issue.rule == "overlap" for issue in issues)


@given(st.lists(spans, max_size=8))
def test_removing_the_reported_intervals_leaves_no_overlap(day: list[Span]) -> None:
    reported = {int(i.field.rsplit(".", 1)[1]) for i in check_day_spans(day, field="f", overlap_rule="o")}
    kept = [span for i, span in enumerate(day) if i not in reported]
    assert check_day_spans(kept, field="f", overlap_rule="o") == []
