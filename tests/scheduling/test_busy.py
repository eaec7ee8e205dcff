"""Busy time in epoch microseconds (`scheduling.busy`): exact against the instants it
stands for, and the same answers as the datetime `IntervalSet` it replaces in the engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from scheduling_support import ZONES

from booklnk.scheduling.busy import EPOCH, Busy, micros, micros_long
from booklnk.scheduling.intervals import Interval, IntervalSet, subtract_runs

BASE = datetime(2026, 3, 2, 9, tzinfo=UTC)
US = timedelta(microseconds=1)

# (Hypothesis bounds are naive wall times; the zones make them aware.)
instants = st.datetimes(
    min_value=datetime(1971, 1, 1),  # noqa: DTZ001
    max_value=datetime(2200, 1, 1),  # noqa: DTZ001
    timezones=st.sampled_from(ZONES),
)


@st.composite
def intervals(draw: st.DrawFn) -> Interval:
    """Intervals over a few hours at microsecond resolution, so that they touch and overlap."""
    start = draw(st.integers(0, 4 * 3600 * 10**6))
    length = draw(st.integers(1, 3600 * 10**6))
    return Interval(BASE + start * US, BASE + (start + length) * US)


@given(instants)
def test_an_instant_is_its_microseconds_since_the_epoch_exactly(instant: datetime) -> None:
    # (Against the UTC instant: Python never finds a wall time in a fold equal across zones.)
    assert EPOCH + timedelta(microseconds=micros(instant)) == instant.astimezone(UTC)
    assert micros(instant.astimezone(UTC) + US) == micros(instant) + 1


def test_lengths_convert_exactly() -> None:
    assert micros_long(timedelta(minutes=35, microseconds=7)) == 35 * 60 * 10**6 + 7


@given(st.lists(intervals(), max_size=8), intervals())
def test_busy_time_overlaps_what_the_interval_set_overlaps(busy: list[Interval], probe: Interval) -> None:
    assert Busy.of(busy).overlaps(probe) == IntervalSet(busy).overlaps(probe)


@given(st.lists(intervals(), max_size=8))
def test_busy_time_is_the_interval_set_in_microseconds(busy: list[Interval]) -> None:
    expected = IntervalSet(busy)
    found = Busy.of(busy)
    assert found.starts == tuple(micros(s) for s in expected.starts)
    assert found.ends == tuple(micros(e) for e in expected.ends)
    assert bool(found) == bool(expected)
    # As the database sends it (two arrays, in any order): touching and overlapping merge alike.
    pairs = [(micros(i.start), micros(i.end)) for i in busy]
    assert Busy.from_arrays([s for s, _ in pairs], [e for _, e in pairs]) == found


@given(st.lists(intervals(), max_size=6), st.lists(intervals(), max_size=8))
def test_subtracting_in_microseconds_is_subtracting_the_instants(
    available: list[Interval], busy: list[Interval]
) -> None:
    kept = IntervalSet(available).subtract(IntervalSet(busy))
    own = IntervalSet(available)
    holes = Busy.of(busy)
    starts, ends = subtract_runs(
        [micros(s) for s in own.starts], [micros(e) for e in own.ends], holes.starts, holes.ends
    )
    assert starts == [micros(s) for s in kept.starts]
    assert ends == [micros(e) for e in kept.ends]
