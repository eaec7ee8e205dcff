"""Bookable starts in a compact shape, for long windows and large crews: each staff member
and resource named once, each distinct set of them written once (as the free ones or, when
shorter, as all but some), and every start pointing at its sets by position.

Any of 200 barbers over 62 days was 7.8 MB in the slot-by-slot shape (every start repeating
the ids of everyone free then); bench/stack.py prints both sizes. Pure: no I/O."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from booklnk.scheduling.availability import Slot


@dataclass(frozen=True, slots=True)
class Compact:
    """Plain data, ready for JSON: see `booking.schemas.CompactAvailabilityOut`."""

    staff_ids: list[uuid.UUID]
    resource_ids: dict[str, list[uuid.UUID]]
    staff_sets: list[dict[str, list[int]]]
    resource_sets: dict[str, list[dict[str, list[int]]]]
    starts: list[dict[str, Any]]


class _Sets:
    """Distinct sets of positions in `ids`, each encoded once, numbered as first met."""

    def __init__(self, ids: Sequence[uuid.UUID]) -> None:
        self.position = {member: i for i, member in enumerate(ids)}
        self.encoded: list[dict[str, list[int]]] = []
        self._numbers: dict[frozenset[uuid.UUID], int] = {}
        # Neighbouring starts share the engine's very tuple (see scheduling.availability's
        # `_who_fits`): found by identity first, a set's ids are hashed once per tuple. (The
        # slots hold every tuple for the call's length, so no identity is reused meanwhile.)
        self._by_tuple: dict[int, int] = {}

    def number(self, members: tuple[uuid.UUID, ...]) -> int:
        found = self._by_tuple.get(id(members))
        if found is None:
            key = frozenset(members)
            found = self._numbers.get(key)
            if found is None:
                found = self._numbers[key] = len(self.encoded)
                self.encoded.append(encode_set([self.position[m] for m in members], len(self.position)))
            self._by_tuple[id(members)] = found
        return found


def encode_set(positions: Sequence[int], size: int) -> dict[str, list[int]]:
    """`{"free": [...]}` (ascending) or, when fewer, `{"all_but": [...]}`: the positions
    in a list of `size` that are not in the set."""
    free = sorted(positions)
    if 2 * len(free) <= size:
        return {"free": free}
    taken = set(free)
    return {"all_but": [i for i in range(size) if i not in taken]}


def decode_set(encoded: dict[str, list[int]], size: int) -> list[int]:
    """The positions `encode_set` was given (ascending)."""
    if "free" in encoded:
        return list(encoded["free"])
    left_out = set(encoded["all_but"])
    return [i for i in range(size) if i not in left_out]


def _members(groups: Iterable[tuple[uuid.UUID, ...]]) -> list[uuid.UUID]:
    """Every id of `groups`, once, in the order first met (each distinct group read once)."""
    return list(dict.fromkeys(member for group in dict.fromkeys(groups) for member in group))


def compact(slots: Sequence[Slot], zone: ZoneInfo) -> Compact:
    """`slots` in the compact shape: ids in the order first met; each start as a local
    instant with its offset (the end is the answer's duration later)."""
    staff_ids = _members(slot.staff_ids for slot in slots)
    kinds = sorted({kind for slot in slots for kind in slot.resource_ids})
    resource_ids = {kind: _members(slot.resource_ids.get(kind, ()) for slot in slots) for kind in kinds}
    staff_sets = _Sets(staff_ids)
    resource_sets = {kind: _Sets(ids) for kind, ids in resource_ids.items()}
    starts: list[dict[str, Any]] = []
    for slot in slots:
        starts.append(
            {
                "starts_at_local": slot.start.astimezone(zone),
                "staff_set": staff_sets.number(slot.staff_ids),
                "resource_sets": {
                    kind: resource_sets[kind].number(members) for kind, members in slot.resource_ids.items()
                },
            }
        )
    return Compact(
        staff_ids=staff_ids,
        resource_ids=resource_ids,
        staff_sets=staff_sets.encoded,
        resource_sets={kind: sets.encoded for kind, sets in resource_sets.items()},
        starts=starts,
    )
