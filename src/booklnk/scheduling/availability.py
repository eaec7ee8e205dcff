"""The appointment availability engine: bookable slots, and the check of one start. Pure.

No I/O and no clock: the caller loads the data (a bounded number of queries), expands
schedules with `calendar.expand_schedule`, and passes `now`.

ONE RULE SET for listing and booking. A start is offered, and accepted, iff
1. `BookingTime` accepts it (on the local grid, not in the past, outside the minimum
   notice, inside the horizon: see `rules.py`), and
2. its blocked time [start - buffer_before, start + duration + buffer_after) fits some
   candidate staff member (inside their available time, overlapping none of their busy
   intervals), and, for every required resource kind, some resource of that kind alike.
`check_slot` evaluates rule 2 literally per candidate (two bisections). `open_starts`
evaluates the same rule in bulk: per candidate it computes free = available - busy once,
then, per free interval, takes by bisection the run of grid starts s with
[s - before, s + duration + after) inside it, i.e. s in [free.start + before,
free.end - duration - after]. For coalesced sets "inside available and clear of busy" is
exactly "inside one free interval", and the property tests hold the two to it.

Class mode does not use this engine (a session's time and seats are stored rows, see
`booking/classes/`), but judges each session's start with the same `BookingTime.rejection`.
"""

from __future__ import annotations

import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from booklnk.scheduling.busy import Busy, micros, micros_long
from booklnk.scheduling.errors import slot_error
from booklnk.scheduling.intervals import Interval, IntervalSet, as_utc, subtract_runs
from booklnk.scheduling.rules import RULE_MESSAGES, BookingTime, SlotRule, SlotRules


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """The requested service. A buffer of None means "the business type's default"."""

    duration_options_minutes: tuple[int, ...]
    buffer_before_minutes: int | None = None
    buffer_after_minutes: int | None = None
    required_resource_kinds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Candidate:
    """A staff member or a resource who could take the booking.

    `available`: working time in UTC (for staff, already intersected with the business's
    opening hours). `busy`: blocked time of active bookings (their buffers included) and
    of unexpired holds, in epoch microseconds. Both must cover
    `AvailabilityRequest.needed_span(window)`.
    """

    id: uuid.UUID
    available: IntervalSet
    busy: Busy = field(default_factory=Busy)

    def takes(self, blocked: Interval) -> bool:
        """The fit rule: `blocked` lies inside available time and overlaps nothing busy."""
        return self.available.contains(blocked) and not self.busy.overlaps(blocked)


@dataclass(frozen=True, slots=True)
class AvailabilityRequest:
    """Everything the engine needs for one service. "Any staff" passes every qualified
    staff member as a candidate; a named staff member is the only candidate."""

    rules: SlotRules
    service: ServiceSpec
    duration_minutes: int
    zone: ZoneInfo
    now: datetime
    staff: Sequence[Candidate]
    resources: Mapping[str, Sequence[Candidate]] = field(default_factory=dict)  # by kind

    @property
    def before(self) -> timedelta:
        own = self.service.buffer_before_minutes
        return timedelta(minutes=self.rules.buffer_before_minutes if own is None else own)

    @property
    def after(self) -> timedelta:
        own = self.service.buffer_after_minutes
        return timedelta(minutes=self.rules.buffer_after_minutes if own is None else own)

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def booking_time(self) -> BookingTime:
        return BookingTime(self.rules, self.zone, self.now)

    def blocked(self, start: datetime) -> Interval:
        """The time a booking starting at `start` keeps its staff and resources from others."""
        return Interval(start - self.before, start + self.duration + self.after)

    def needed_span(self, window: Interval) -> Interval:
        """The span that availability and busy data must cover to list `window`."""
        return Interval(window.start - self.before, window.end + self.duration + self.after)

    def duration_is_valid(self) -> bool:
        return self.duration_minutes in self.service.duration_options_minutes


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable start, with who can take it: ids in the order the candidates were given."""

    start: datetime
    end: datetime
    staff_ids: tuple[uuid.UUID, ...]
    resource_ids: Mapping[str, tuple[uuid.UUID, ...]]  # per required kind, never empty


@dataclass(frozen=True, slots=True)
class SlotRejection:
    """The first rule a requested start breaks."""

    rule: SlotRule
    message: str

    @property
    def code(self) -> str:
        return self.rule.value


@dataclass(frozen=True, slots=True)
class Openings:
    """The bookable starts of a window as columns: who can take each, as a bit mask over
    the candidates (bit i, the lowest first, is `staff_ids[i]`; per required resource kind
    alike). A crew of 200 over 62 days is a few thousand integers, not a tuple of ids per
    start; `slots` spells them out when a caller wants them one by one."""

    starts: list[datetime]
    duration: timedelta
    staff_ids: tuple[uuid.UUID, ...]  # the candidates, in the order they were given
    staff: list[int]  # per start, never 0
    resource_ids: Mapping[str, tuple[uuid.UUID, ...]] = field(default_factory=dict)
    resources: Mapping[str, list[int]] = field(default_factory=dict)  # per kind, per start, never 0

    def slots(self) -> list[Slot]:
        """One `Slot` per start. Starts with the same candidates share one tuple of ids."""
        staff = _Spelled(self.staff_ids)
        resources = {kind: _Spelled(ids) for kind, ids in self.resource_ids.items()}
        return [
            Slot(
                start,
                start + self.duration,
                staff.ids(self.staff[i]),
                {kind: spelled.ids(self.resources[kind][i]) for kind, spelled in resources.items()},
            )
            for i, start in enumerate(self.starts)
        ]


class _Spelled:
    """The ids of the candidates in masks over `ids`, each distinct mask spelled once."""

    def __init__(self, ids: tuple[uuid.UUID, ...]) -> None:
        self._candidates = ids
        self._seen: dict[int, tuple[uuid.UUID, ...]] = {}

    def ids(self, mask: int) -> tuple[uuid.UUID, ...]:
        found = self._seen.get(mask)
        if found is None:
            found = self._seen[mask] = tuple(self._candidates[i] for i in bit_positions(mask))
        return found


def bit_positions(mask: int) -> Iterator[int]:
    """The positions of the bits set in `mask`, lowest first."""
    while mask:
        lowest = mask & -mask
        yield lowest.bit_length() - 1
        mask ^= lowest


def list_slots(request: AvailabilityRequest, window: Interval) -> list[Slot]:
    """Every bookable start in `window`, sorted by start, with who can take it.

    Raises `SlotRuleBroken` (invalid_duration) when the duration is not an option."""
    return open_starts(request, window).slots()


def open_starts(request: AvailabilityRequest, window: Interval) -> Openings:
    """Every bookable start in `window`, sorted, with who can take it (see `Openings`).

    Raises `SlotRuleBroken` (invalid_duration) when the duration is not an option."""
    if not request.duration_is_valid():
        raise slot_error(SlotRule.INVALID_DURATION, field="duration")
    duration = request.duration
    kinds = request.service.required_resource_kinds
    staff_ids = tuple(candidate.id for candidate in request.staff)
    resource_ids = {kind: tuple(r.id for r in request.resources.get(kind, ())) for kind in kinds}
    starts = request.booking_time.starts(window)
    if not starts:
        return Openings([], duration, staff_ids, [], resource_ids, {kind: [] for kind in kinds})
    before, tail = request.before, duration + request.after
    staff_at = _who_fits(request.staff, starts, before, tail)
    resources_at = {kind: _who_fits(request.resources.get(kind, ()), starts, before, tail) for kind in kinds}
    taken = [i for i, staff in enumerate(staff_at) if staff and all(resources_at[kind][i] for kind in kinds)]
    return Openings(
        [starts[i] for i in taken],
        duration,
        staff_ids,
        [staff_at[i] for i in taken],
        resource_ids,
        {kind: [masks[i] for i in taken] for kind, masks in resources_at.items()},
    )


def check_slot(
    request: AvailabilityRequest, start: datetime, *, staff_id: uuid.UUID | None = None
) -> Slot | SlotRejection:
    """The options for one requested start (as `list_slots` would list it), or the first
    rule it breaks. `staff_id` narrows the candidates to one; it must be among them."""
    start = as_utc(start)
    if not request.duration_is_valid():
        return _reject(SlotRule.INVALID_DURATION)
    timing = request.booking_time.rejection(start)
    if timing is not None:
        return _reject(timing)
    staff = _narrow(request.staff, staff_id)
    blocked = request.blocked(start)
    if not any(candidate.available.contains(blocked) for candidate in staff):
        return _reject(SlotRule.OUTSIDE_HOURS)
    staff_ids = tuple(candidate.id for candidate in staff if candidate.takes(blocked))
    kinds = request.service.required_resource_kinds
    resource_ids = {
        kind: tuple(r.id for r in request.resources.get(kind, ()) if r.takes(blocked)) for kind in kinds
    }
    if not staff_ids or not all(resource_ids.values()):
        return _reject(SlotRule.SLOT_UNAVAILABLE)
    return Slot(start, start + request.duration, staff_ids, resource_ids)


def _reject(rule: SlotRule) -> SlotRejection:
    return SlotRejection(rule, RULE_MESSAGES[rule])


def _narrow(staff: Sequence[Candidate], staff_id: uuid.UUID | None) -> Sequence[Candidate]:
    if staff_id is None:
        return staff
    chosen = [candidate for candidate in staff if candidate.id == staff_id]
    if not chosen:
        raise ValueError(f"staff member {staff_id} is not among the candidates")
    return chosen


def _who_fits(
    candidates: Sequence[Candidate], starts: Sequence[datetime], before: timedelta, tail: timedelta
) -> list[int]:
    """For each start (by index), the candidates whose free time fits it: a bit mask, bit
    i for `candidates[i]`. Each candidate marks only where its runs of fitting starts begin
    and end; one sweep over the starts then carries the set along (a run that ends where
    another begins is dropped first), so the work is per run, not per start and candidate.
    The sweeps run in epoch microseconds, the busy time's own form."""
    at = [micros(start) for start in starts]
    before_us, tail_us = micros_long(before), micros_long(tail)
    # Candidates with the same schedule share one `available` object: converted once.
    available: dict[int, tuple[list[int], list[int]]] = {}
    joins = [0] * (len(starts) + 1)
    leaves = [0] * (len(starts) + 1)
    for position, candidate in enumerate(candidates):
        bit = 1 << position
        own = available.get(id(candidate.available))
        if own is None:
            own = available[id(candidate.available)] = (
                [micros(s) for s in candidate.available.starts],
                [micros(e) for e in candidate.available.ends],
            )
        free = subtract_runs(*own, candidate.busy.starts, candidate.busy.ends)
        for low, high in _fitting_runs(*free, at, before_us, tail_us):
            joins[low] |= bit
            leaves[high] |= bit
    masks: list[int] = []
    current = 0
    count = len(starts)
    for joined, left in zip(joins[:count], leaves[:count], strict=True):
        current = (current & ~left) | joined
        masks.append(current)
    return masks


def _fitting_runs(
    free_starts: Sequence[int], free_ends: Sequence[int], starts: Sequence[int], before: int, tail: int
) -> Iterator[tuple[int, int]]:
    """Index runs [low, high) of `starts` whose blocked time fits inside one free interval
    (all in epoch microseconds).

    Only free intervals that can reach a listed start are visited, and those shorter than
    the blocked length are skipped before any bisection."""
    length = before + tail
    # Free intervals ending before the first start's blocked end cannot host any start;
    # once a free interval starts too late for the last start, none after it can either.
    first = bisect_left(free_ends, starts[0] + tail)
    for free_start, free_end in zip(free_starts[first:], free_ends[first:], strict=True):
        if free_start + before > starts[-1]:
            break
        if free_end - free_start < length:
            continue
        low = bisect_left(starts, free_start + before)
        high = bisect_right(starts, free_end - tail)
        if low < high:
            yield low, high
