"""Bookable starts in a compact shape, for long windows and large crews: each staff member
and resource named once, each distinct set of them written once (a hexadecimal bit mask
over the list of ids), and the starts as columns: their local instants, and beside each the
position of its staff set (and of its resource set per kind).

Any of 200 barbers over 62 days was 7.8 MB in the slot-by-slot shape (every start repeating
the ids of everyone free then); lists of positions for the sets still made it 741 KB, since
most of 2,852 starts had a set of their own. bench/stack.py prints both sizes. Pure: no I/O."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from booklnk.scheduling.availability import Slot


@dataclass(frozen=True, slots=True)
class Compact:
    """Plain data, ready for JSON: see `booking.schemas.CompactAvailabilityOut`."""

    staff_ids: list[uuid.UUID]
    resource_ids: dict[str, list[uuid.UUID]]
    staff_sets: list[str]
    resource_sets: dict[str, list[str]]
    starts_at_local: list[datetime]
    staff_set: list[int]
    resource_set: dict[str, list[int]]


class _Sets:
    """Distinct sets of positions in `ids`, each encoded once, numbered as first met."""

    def __init__(self, ids: Sequence[uuid.UUID]) -> None:
        self.position = {member: i for i, member in enumerate(ids)}
        self.encoded: list[str] = []
        self._numbers: dict[str, int] = {}
        # Neighbouring starts share the engine's very tuple (see scheduling.availability's
        # `_who_fits`): found by identity first, a set is encoded once per tuple. (The
        # slots hold every tuple for the call's length, so no identity is reused meanwhile.)
        self._by_tuple: dict[int, int] = {}

    def number(self, members: tuple[uuid.UUID, ...]) -> int:
        found = self._by_tuple.get(id(members))
        if found is None:
            mask = encode_set(self.position[m] for m in members)
            found = self._numbers.get(mask)
            if found is None:
                found = self._numbers[mask] = len(self.encoded)
                self.encoded.append(mask)
            self._by_tuple[id(members)] = found
        return found


def encode_set(positions: Iterable[int]) -> str:
    """The set as a hexadecimal bit mask: bit i (the lowest first) set when position i is
    in it; no leading zeros ("0" for none)."""
    return format(sum(1 << position for position in set(positions)), "x")


def decode_set(mask: str, size: int) -> list[int]:
    """The positions `encode_set` was given (ascending), in a list of `size`."""
    value = int(mask, 16)
    return [position for position in range(size) if value >> position & 1]


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
    return Compact(
        staff_ids=staff_ids,
        resource_ids=resource_ids,
        starts_at_local=[slot.start.astimezone(zone) for slot in slots],
        staff_set=[staff_sets.number(slot.staff_ids) for slot in slots],
        resource_set={
            kind: [resource_sets[kind].number(slot.resource_ids[kind]) for slot in slots] for kind in kinds
        },
        staff_sets=staff_sets.encoded,
        resource_sets={kind: sets.encoded for kind, sets in resource_sets.items()},
    )
