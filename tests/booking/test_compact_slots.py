"""The compact availability shape loses nothing: decoding it gives back every start with
exactly who and what is free then, and each set is written in its shorter form."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from booklnk.booking.compact_slots import compact, decode_set, encode_set
from booklnk.scheduling.availability import Slot

CAIRO = ZoneInfo("Africa/Cairo")
STAFF = [uuid.UUID(int=i + 1) for i in range(12)]
CHAIRS = [uuid.UUID(int=100 + i) for i in range(4)]


@given(
    st.integers(min_value=1, max_value=300).flatmap(
        lambda n: st.tuples(st.just(n), st.sets(st.integers(0, n - 1)))
    )
)
def test_a_set_decodes_to_itself_in_its_shorter_form(case: tuple[int, set[int]]) -> None:
    size, members = case
    encoded = encode_set(sorted(members), size)
    assert decode_set(encoded, size) == sorted(members)
    (listed,) = encoded.values()
    assert len(listed) <= size // 2 + (size % 2)  # never more than half the list (rounded up)


def _subset(pool: list[uuid.UUID]) -> st.SearchStrategy[tuple[uuid.UUID, ...]]:
    return st.lists(st.sampled_from(pool), min_size=1, unique=True).map(tuple)


slots_strategy = st.lists(
    st.tuples(st.integers(0, 62 * 96), _subset(STAFF), _subset(CHAIRS)),
    max_size=80,
    unique_by=lambda case: case[0],
)


@given(slots_strategy, st.booleans())
def test_decoding_the_compact_shape_gives_back_every_start_and_its_sets(
    cases: list[tuple[int, tuple[uuid.UUID, ...], tuple[uuid.UUID, ...]]], with_chairs: bool
) -> None:
    origin = datetime(2026, 12, 8, 7, 0, tzinfo=UTC)
    slots = [
        Slot(
            start=origin + timedelta(minutes=15 * quarter),
            end=origin + timedelta(minutes=15 * quarter + 30),
            staff_ids=staff,
            resource_ids={"chair": chairs} if with_chairs else {},
        )
        for quarter, staff, chairs in sorted(cases)
    ]
    shape = compact(slots, CAIRO)
    assert len(shape.starts) == len(slots)
    assert len(shape.staff_sets) == len({frozenset(s.staff_ids) for s in slots})
    for slot, start in zip(slots, shape.starts, strict=True):
        assert start["starts_at_local"] == slot.start
        assert start["starts_at_local"].utcoffset() == timedelta(hours=2)
        free = decode_set(shape.staff_sets[start["staff_set"]], len(shape.staff_ids))
        assert {shape.staff_ids[i] for i in free} == set(slot.staff_ids)
        if with_chairs:
            chair_set = shape.resource_sets["chair"][start["resource_sets"]["chair"]]
            chairs = decode_set(chair_set, len(shape.resource_ids["chair"]))
            assert {shape.resource_ids["chair"][i] for i in chairs} == set(slot.resource_ids["chair"])
        else:
            assert start["resource_sets"] == {}
