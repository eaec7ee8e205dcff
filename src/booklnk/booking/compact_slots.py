"""Bookable starts in a compact shape, for long windows and large crews: each staff member
and resource named once, each distinct set of them written once (a hexadecimal bit mask
over the list of ids), and the starts as columns: their local instants, and beside each the
position of its staff set (and of its resource set per kind).

Any of 200 barbers over 62 days was 7.8 MB in the slot-by-slot shape (every start repeating
the ids of everyone free then); lists of positions for the sets still made it 741 KB, since
most of 2,852 starts had a set of their own. bench/stack.py prints both sizes. The engine's
masks (`scheduling.availability.Openings`) are written as they are. Pure: no I/O."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from booklnk.scheduling.availability import Openings, bit_positions


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
    """The distinct masks of one column, re-based on the candidates free at some start
    (position i of the answer's list is the i-th such candidate), each encoded once and
    numbered as first met."""

    def __init__(self, candidates: Sequence[uuid.UUID], masks: Sequence[int]) -> None:
        distinct = list(dict.fromkeys(masks))
        anyone = 0
        for mask in distinct:
            anyone |= mask
        present = list(bit_positions(anyone))
        self.ids = [candidates[i] for i in present]
        # Usually everyone is free at some start and the masks are the answer's as they are.
        rebase = len(present) != len(candidates)
        position = {bit: i for i, bit in enumerate(present)}
        self.encoded = [
            encode_set(position[bit] for bit in bit_positions(mask)) if rebase else format(mask, "x")
            for mask in distinct
        ]
        self._numbers = {mask: number for number, mask in enumerate(distinct)}

    def numbers(self, masks: Sequence[int]) -> list[int]:
        numbers = self._numbers
        return [numbers[mask] for mask in masks]


def encode_set(positions: Iterable[int]) -> str:
    """The set as a hexadecimal bit mask: bit i (the lowest first) set when position i is
    in it; no leading zeros ("0" for none)."""
    return format(sum(1 << position for position in set(positions)), "x")


def decode_set(mask: str, size: int) -> list[int]:
    """The positions `encode_set` was given (ascending), in a list of `size`."""
    value = int(mask, 16)
    return [position for position in range(size) if value >> position & 1]


def compact(openings: Openings, zone: ZoneInfo) -> Compact:
    """`openings` in the compact shape: the ids free at some start, in the candidates'
    order; each start as a local instant with its offset (the end is the answer's
    duration later)."""
    staff = _Sets(openings.staff_ids, openings.staff)
    kinds = sorted(openings.resource_ids)
    resources = {kind: _Sets(openings.resource_ids[kind], openings.resources[kind]) for kind in kinds}
    return Compact(
        staff_ids=staff.ids,
        resource_ids={kind: sets.ids for kind, sets in resources.items()},
        starts_at_local=[start.astimezone(zone) for start in openings.starts],
        staff_set=staff.numbers(openings.staff),
        resource_set={kind: sets.numbers(openings.resources[kind]) for kind, sets in resources.items()},
        staff_sets=staff.encoded,
        resource_sets={kind: sets.encoded for kind, sets in resources.items()},
    )
