"""The front desk's grid (pure): every booking of a shown staff member becomes one block
inside the grid, in its own column, spanning its time; bookings that do not overlap in
time never share a row of their column; the hours are marked in order. The time a column
cannot be booked is shaded: the shades and the open time tile the day, each shade named
by a reason that holds, and laid inside the grid in its column."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from booklnk.flows import reports
from booklnk.scheduling.intervals import Interval, IntervalSet
from booklnk.web import day_plan

CAIRO = ZoneInfo("Africa/Cairo")
MIDNIGHT = datetime(2026, 11, 24, tzinfo=CAIRO)
STAFF = [uuid.UUID(int=i + 1) for i in range(3)]

bookings = st.lists(
    st.tuples(
        st.sampled_from(STAFF),
        st.integers(min_value=0, max_value=24 * 60 - 5),
        st.integers(min_value=5, max_value=240),
    ),
    max_size=20,
)


def _items(drawn: list[tuple[uuid.UUID, int, int]]) -> list[day_plan.Item]:
    return [
        day_plan.Item(
            uuid.UUID(int=1000 + i),
            staff,
            MIDNIGHT + timedelta(minutes=start),
            MIDNIGHT + timedelta(minutes=start + length),
        )
        for i, (staff, start, length) in enumerate(drawn)
    ]


@given(bookings)
def test_every_booking_is_one_block_inside_the_grid_in_its_column(
    drawn: list[tuple[uuid.UUID, int, int]],
) -> None:
    items = _items(drawn)
    laid = day_plan.plan(MIDNIGHT, STAFF, items)
    assert sorted(b.key for b in laid.blocks) == sorted(i.key for i in items)
    by_key = {i.key: i for i in items}
    for block in laid.blocks:
        assert block.column == STAFF.index(by_key[block.key].column_key) + 2
        assert 2 <= block.row_start < block.row_end <= laid.rows + 2


@given(bookings)
def test_bookings_apart_in_time_never_share_a_row(drawn: list[tuple[uuid.UUID, int, int]]) -> None:
    items = _items(drawn)
    laid = day_plan.plan(MIDNIGHT, STAFF, items)
    by_key = {i.key: i for i in items}
    for a in laid.blocks:
        for b in laid.blocks:
            first, second = by_key[a.key], by_key[b.key]
            if a.column == b.column and first.ends_at <= second.starts_at:
                # Whole rows of ROW_MINUTES: a booking ending mid-row may share it.
                assert a.row_end <= b.row_start + 1


@given(bookings)
def test_hours_are_marked_once_each_in_order(drawn: list[tuple[uuid.UUID, int, int]]) -> None:
    laid = day_plan.plan(MIDNIGHT, STAFF, _items(drawn))
    lines = [line for _, line in laid.hours]
    assert lines == sorted(lines)
    assert len(set(lines)) == len(lines)
    assert laid.hours[0][0] <= MIDNIGHT + timedelta(hours=day_plan.FIRST_HOUR)


def test_now_is_marked_only_inside_the_shown_day() -> None:
    inside = day_plan.plan(MIDNIGHT, STAFF, [], now=MIDNIGHT + timedelta(hours=12))
    assert inside.now_row == 2 + (12 - day_plan.FIRST_HOUR) * 60 // day_plan.ROW_MINUTES
    assert day_plan.plan(MIDNIGHT, STAFF, [], now=MIDNIGHT - timedelta(hours=1)).now_row is None


def test_a_staff_member_not_shown_has_no_blocks() -> None:
    stranger = day_plan.Item(
        uuid.uuid4(), uuid.uuid4(), MIDNIGHT + timedelta(hours=10), MIDNIGHT + timedelta(hours=11)
    )
    assert day_plan.plan(MIDNIGHT, STAFF, [stranger]).blocks == []


DAY = Interval(MIDNIGHT, MIDNIGHT + timedelta(days=1))
# Sets of time around the day (a shift or a time off may start the evening before).
time_sets = st.lists(
    st.tuples(st.integers(min_value=-180, max_value=26 * 60), st.integers(min_value=1, max_value=600)),
    max_size=6,
).map(
    lambda spans: IntervalSet(
        Interval(MIDNIGHT + timedelta(minutes=a), MIDNIGHT + timedelta(minutes=a + n)) for a, n in spans
    )
)
day_hours = st.builds(day_plan.Hours, time_sets, time_sets, time_sets, time_sets)


@given(day_hours)
def test_shades_and_the_open_time_tile_the_day(hours: day_plan.Hours) -> None:
    shades = day_plan.shades(STAFF[0], DAY, hours)
    shaded = IntervalSet(Interval(s.starts_at, s.ends_at) for s in shades)
    assert shaded.total == sum((s.ends_at - s.starts_at for s in shades), timedelta())  # disjoint
    assert not shaded.intersection(hours.open)
    assert shaded.union(hours.open.clip(DAY)) == IntervalSet([DAY])
    assert [s.starts_at for s in shades] == sorted(s.starts_at for s in shades)


@given(day_hours)
def test_each_shade_is_named_by_the_first_reason_that_holds(hours: day_plan.Hours) -> None:
    closed = IntervalSet([DAY]).subtract(hours.opening)
    for shade in day_plan.shades(STAFF[0], DAY, hours):
        part = IntervalSet([Interval(shade.starts_at, shade.ends_at)])
        reasons = {
            "time_off": hours.time_off,
            "closed": closed.subtract(hours.time_off),
            "break": hours.shift.subtract(hours.time_off).subtract(closed),
            "off": IntervalSet([DAY]).subtract(hours.time_off).subtract(closed).subtract(hours.shift),
        }
        assert part.intersection(reasons[shade.kind]) == part, shade


def test_a_break_inside_the_shift_is_a_break_and_the_evening_is_off() -> None:
    def at(hour: float) -> datetime:
        return MIDNIGHT + timedelta(hours=hour)

    shift = IntervalSet([Interval(at(9), at(18))])
    hours = day_plan.Hours(
        open=IntervalSet([Interval(at(9), at(13)), Interval(at(14), at(16))]),
        shift=shift,
        opening=IntervalSet([Interval(at(8), at(20))]),
        time_off=IntervalSet([Interval(at(16), at(18))]),
    )
    found = [(s.kind, s.starts_at, s.ends_at) for s in day_plan.shades(STAFF[0], DAY, hours)]
    assert found == [
        ("closed", at(0), at(8)),
        ("off", at(8), at(9)),
        ("break", at(13), at(14)),
        ("time_off", at(16), at(18)),
        ("off", at(18), at(20)),
        ("closed", at(20), at(24)),
    ]


@given(bookings, st.lists(st.tuples(st.sampled_from(STAFF), day_hours), max_size=3))
def test_shades_lie_inside_the_grid_in_their_column(
    drawn: list[tuple[uuid.UUID, int, int]], columns: list[tuple[uuid.UUID, day_plan.Hours]]
) -> None:
    shades = [s for key, hours in columns for s in day_plan.shades(key, DAY, hours)]
    working = [i for _, hours in columns for i in hours.open.clip(DAY)]
    laid = day_plan.plan(MIDNIGHT, STAFF[:2], _items(drawn), shaded=shades, working=working)
    for placed in laid.shades:
        assert placed.column == STAFF.index(placed.shade.column_key) + 2 <= 3
        assert 2 <= placed.row_start < placed.row_end <= laid.rows + 2
    # The shown hours reach every open time of the day, so none is ever hidden.
    shown = Interval(laid.start, laid.start + timedelta(minutes=laid.rows * day_plan.ROW_MINUTES))
    for interval in working:
        assert shown.contains(interval)


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2190, 1, 1)),
    st.integers(min_value=0, max_value=400),
    st.sampled_from(["day", "week", "month"]),
)
def test_report_buckets_cover_the_window_in_order_without_gaps(first: date, days: int, bucket: str) -> None:
    last = first + timedelta(days=days)
    found = reports.buckets(first, last, bucket)  # type: ignore[arg-type]
    assert found == sorted(set(found))
    assert found[0] <= first <= last
    assert found[-1] <= last
    step = {"day": 1, "week": 7}.get(bucket)
    for a, b in itertools.pairwise(found):
        assert (b - a).days == step if step else (b.day == 1 and 28 <= (b - a).days <= 31)
