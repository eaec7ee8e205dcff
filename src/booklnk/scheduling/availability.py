"""The appointment availability engine: bookable slots, and the check of one start. Pure.

No I/O and no clock: the caller loads the data (a bounded number of queries), expands
schedules with `calendar.expand_schedule`, and passes `now`.

ONE RULE SET for listing and booking. A start is offered, and accepted, iff
1. `BookingTime` accepts it (on the local grid, not in the past, outside the minimum
   notice, inside the horizon: see `rules.py`), and
2. its blocked time [start - buffer_before, start + duration + buffer_after) fits some
   candidate staff member (inside their available time, overlapping none of their busy
   intervals), and, for every required resource kind, some resource of that kind alike.
`check_slot` evaluates rule 2 literally per candidate (two bisections). `list_slots`
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

from booklnk.scheduling.errors import slot_error
from booklnk.scheduling.intervals import Interval, IntervalSet, as_utc
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
    of unexpired holds. Both must cover `AvailabilityRequest.needed_span(window)`.
    """

    id: uuid.UUID
    available: IntervalSet
    busy: IntervalSet = field(default_factory=IntervalSet)

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


def list_slots(request: AvailabilityRequest, window: Interval) -> list[Slot]:
    """Every bookable start in `window`, sorted by start.

    Raises `SlotRuleBroken` (invalid_duration) when the duration is not an option."""
    if not request.duration_is_valid():
        raise slot_error(SlotRule.INVALID_DURATION, field="duration")
    starts = request.booking_time.starts(window)
    if not starts:
        return []
    duration = request.duration
    before, tail = request.before, duration + request.after
    staff_at = _who_fits(request.staff, starts, before, tail)
    kinds = request.service.required_resource_kinds
    if not kinds:
        return [
            Slot(start, start + duration, staff, {})
            for start, staff in zip(starts, staff_at, strict=True)
            if staff
        ]
    resources_at = {kind: _who_fits(request.resources.get(kind, ()), starts, before, tail) for kind in kinds}
    return [
        Slot(
            start,
            start + duration,
            staff_at[i],
            {kind: resources_at[kind][i] for kind in kinds},
        )
        for i, start in enumerate(starts)
        if staff_at[i] and all(resources_at[kind][i] for kind in kinds)
    ]


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
) -> list[tuple[uuid.UUID, ...]]:
    """For each start (by index), the ids of the candidates whose free time fits it, in
    the candidates' order. Neighbouring starts with the same candidates share one tuple (a
    compact answer finds a set by its identity; see booking.compact_slots)."""
    fits: list[list[uuid.UUID]] = [[] for _ in starts]
    for candidate in candidates:
        free = candidate.available.subtract(candidate.busy)
        candidate_id = candidate.id
        for low, high in _fitting_runs(free, starts, before, tail):
            for ids in fits[low:high]:
                ids.append(candidate_id)
    shared: list[tuple[uuid.UUID, ...]] = []
    previous: list[uuid.UUID] = []
    current: tuple[uuid.UUID, ...] = ()
    for ids in fits:
        # (Comparing lists of the same id objects stays in C: identity before __eq__.)
        if ids != previous:
            previous, current = ids, tuple(ids)
        shared.append(current)
    return shared


def _fitting_runs(
    free: IntervalSet, starts: Sequence[datetime], before: timedelta, tail: timedelta
) -> Iterator[tuple[int, int]]:
    """Index runs [low, high) of `starts` whose blocked time fits inside one free interval.

    Only free intervals that can reach a listed start are visited, and those shorter than
    the blocked length are skipped before any bisection."""
    length = before + tail
    # Free intervals ending before the first start's blocked end cannot host any start;
    # once a free interval starts too late for the last start, none after it can either.
    first = bisect_left(free.ends, starts[0] + tail)
    for free_start, free_end in zip(free.starts[first:], free.ends[first:], strict=True):
        if free_start + before > starts[-1]:
            break
        if free_end - free_start < length:
            continue
        low = bisect_left(starts, free_start + before)
        high = bisect_right(starts, free_end - tail)
        if low < high:
            yield low, high
