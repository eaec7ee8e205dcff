"""Half-open UTC intervals and interval sets, checked against sets of minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scheduling_support import CAIRO, iv, local, utc

from booklnk.scheduling.intervals import Interval, IntervalSet

BASE = datetime(2026, 3, 2, tzinfo=UTC)


def m(minute: int) -> datetime:
    return BASE + timedelta(minutes=minute)


def span(a: int, b: int) -> Interval:
    return Interval(m(a), m(b))


def minutes_of(intervals: IntervalSet) -> set[int]:
    return {
        minute
        for i in intervals
        for minute in range(
            int((i.start - BASE) / timedelta(minutes=1)), int((i.end - BASE) / timedelta(minutes=1))
        )
    }


def test_interval_is_normalised_to_utc() -> None:
    interval = Interval(local("2026-03-02T09:00", CAIRO), local("2026-03-02T10:00", CAIRO))
    assert interval.start == utc("2026-03-02T07:00")
    assert interval.start.tzinfo is UTC
    assert interval.duration == timedelta(hours=1)


@pytest.mark.parametrize(
    ("start", "end"), [("2026-03-02T10:00", "2026-03-02T10:00"), ("2026-03-02T11:00", "2026-03-02T10:00")]
)
def test_interval_is_never_empty(start: str, end: str) -> None:
    with pytest.raises(ValueError, match="empty interval"):
        iv(start, end)


def test_interval_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        Interval(datetime(2026, 3, 2, 9), datetime(2026, 3, 2, 10))  # noqa: DTZ001 - the point


def test_half_open_intervals_touch_without_overlapping() -> None:
    assert not span(0, 60).overlaps(span(60, 120))
    assert span(0, 61).overlaps(span(60, 120))
    assert span(0, 60).contains(span(0, 60))
    assert not span(0, 60).contains(span(30, 61))


def test_set_sorts_and_coalesces_overlapping_and_touching_members() -> None:
    merged = IntervalSet([span(60, 120), span(0, 30), span(30, 45), span(100, 150)])
    assert list(merged) == [span(0, 45), span(60, 150)]
    assert merged.total == timedelta(minutes=135)
    assert len(merged) == 2
    assert not IntervalSet()


def test_union_intersection_subtraction_examples() -> None:
    a = IntervalSet([span(0, 60), span(120, 180)])
    b = IntervalSet([span(30, 150)])
    assert list(a.union(b)) == [span(0, 180)]
    assert list(a.intersection(b)) == [span(30, 60), span(120, 150)]
    assert list(a.subtract(b)) == [span(0, 30), span(150, 180)]
    assert list(b.subtract(a)) == [span(60, 120)]
    assert a.subtract(IntervalSet()) == a
    assert not a.subtract(a)


def test_contains_means_inside_one_member_and_overlaps_is_strict_at_the_ends() -> None:
    free = IntervalSet([span(0, 60), span(60, 90), span(120, 180)])  # [0, 90) after coalescing
    assert free.contains(span(30, 90))
    assert not free.contains(span(80, 130))  # spans the hole
    assert not free.contains(span(-10, 10))
    assert free.overlaps(span(89, 200))
    assert not free.overlaps(span(90, 120))  # exactly the hole
    assert not free.overlaps(span(180, 200))
    assert not free.overlaps(span(-30, 0))


minute_spans = st.lists(
    st.tuples(st.integers(0, 300), st.integers(1, 60)).map(lambda p: span(p[0], p[0] + p[1])), max_size=8
)


@settings(max_examples=150, deadline=None)
@given(minute_spans, minute_spans, st.integers(0, 330), st.integers(1, 60))
def test_set_operations_agree_with_sets_of_minutes(
    a: list[Interval], b: list[Interval], probe_start: int, probe_length: int
) -> None:
    left, right = IntervalSet(a), IntervalSet(b)
    assert minutes_of(left.union(right)) == minutes_of(left) | minutes_of(right)
    assert minutes_of(left.intersection(right)) == minutes_of(left) & minutes_of(right)
    assert minutes_of(left.subtract(right)) == minutes_of(left) - minutes_of(right)
    for result in (left.union(right), left.intersection(right), left.subtract(right)):
        assert result == IntervalSet(result)  # already sorted, disjoint and coalesced
    probe = span(probe_start, probe_start + probe_length)
    wanted = set(range(probe_start, probe_start + probe_length))
    assert left.contains(probe) == (wanted <= minutes_of(left))
    assert left.overlaps(probe) == bool(wanted & minutes_of(left))


def test_from_pairs_equals_building_from_intervals() -> None:
    base = datetime(2026, 11, 25, 8, tzinfo=UTC)
    pairs = [
        (base + timedelta(minutes=a), base + timedelta(minutes=b))
        for a, b in [(60, 90), (0, 30), (30, 45), (80, 120), (200, 210)]
    ]
    assert IntervalSet.from_pairs(pairs) == IntervalSet(Interval(s, e) for s, e in pairs)
