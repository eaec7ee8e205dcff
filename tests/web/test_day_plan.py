"""The front desk's grid (pure): every booking of a shown staff member becomes one block
inside the grid, in its own column, spanning its time; bookings that do not overlap in
time never share a row of their column; the hours are marked in order."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from booklnk.flows import reports
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
