"""The compact availability shape loses nothing: decoding it gives back every start with
exactly who and what is free then, each distinct set written once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from booklnk.booking.compact_slots import compact, decode_set, encode_set
from booklnk.scheduling.availability import Openings

CAIRO = ZoneInfo("Africa/Cairo")
STAFF = [uuid.UUID(int=i + 1) for i in range(12)]
CHAIRS = [uuid.UUID(int=100 + i) for i in range(4)]


@given(
    st.integers(min_value=1, max_value=300).flatmap(
        lambda n: st.tuples(st.just(n), st.sets(st.integers(0, n - 1)))
    )
)
def test_a_set_decodes_to_itself(case: tuple[int, set[int]]) -> None:
    size, members = case
    mask = encode_set(members)
    assert decode_set(mask, size) == sorted(members)
    assert len(mask) <= max(1, -(-size // 4))  # four members a character, at most
    assert mask == "0" or not mask.startswith("0")


def test_a_mask_reads_from_its_lowest_bit() -> None:
    assert (encode_set([0, 2]), encode_set([]), encode_set([4])) == ("5", "0", "10")


def _subset(pool: list[uuid.UUID]) -> st.SearchStrategy[frozenset[int]]:
    return st.sets(st.integers(0, len(pool) - 1), min_size=1).map(frozenset)


openings_strategy = st.lists(
    st.tuples(st.integers(0, 62 * 96), _subset(STAFF), _subset(CHAIRS)),
    max_size=80,
    unique_by=lambda case: case[0],
)


def _mask(positions: frozenset[int]) -> int:
    return sum(1 << position for position in positions)


@given(openings_strategy, st.booleans())
def test_decoding_the_compact_shape_gives_back_every_start_and_its_sets(
    cases: list[tuple[int, frozenset[int], frozenset[int]]], with_chairs: bool
) -> None:
    origin = datetime(2026, 12, 8, 7, 0, tzinfo=UTC)
    ordered = sorted(cases, key=lambda case: case[0])
    openings = Openings(
        starts=[origin + timedelta(minutes=15 * quarter) for quarter, _, _ in ordered],
        duration=timedelta(minutes=30),
        staff_ids=tuple(STAFF),
        staff=[_mask(staff) for _, staff, _ in ordered],
        resource_ids={"chair": tuple(CHAIRS)} if with_chairs else {},
        resources={"chair": [_mask(chairs) for _, _, chairs in ordered]} if with_chairs else {},
    )
    shape = compact(openings, CAIRO)
    slots = openings.slots()
    assert len(shape.starts_at_local) == len(shape.staff_set) == len(slots)
    assert len(shape.staff_sets) == len(set(shape.staff_sets)) == len({frozenset(s.staff_ids) for s in slots})
    # Only those free at some start are named, each once, in the candidates' order.
    free_somewhere = {member for slot in slots for member in slot.staff_ids}
    assert shape.staff_ids == [member for member in STAFF if member in free_somewhere]
    for i, slot in enumerate(slots):
        assert shape.starts_at_local[i] == slot.start
        assert shape.starts_at_local[i].utcoffset() == timedelta(hours=2)
        free = decode_set(shape.staff_sets[shape.staff_set[i]], len(shape.staff_ids))
        assert {shape.staff_ids[p] for p in free} == set(slot.staff_ids)
        if with_chairs:
            chair_set = shape.resource_sets["chair"][shape.resource_set["chair"][i]]
            chairs = decode_set(chair_set, len(shape.resource_ids["chair"]))
            assert {shape.resource_ids["chair"][p] for p in chairs} == set(slot.resource_ids["chair"])
    if not with_chairs:
        assert shape.resource_set == shape.resource_sets == shape.resource_ids == {}
