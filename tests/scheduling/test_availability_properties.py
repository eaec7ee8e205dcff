"""Properties of the engine over random schedules, zones, DST days, bookings and rules.

The oracle is brute force at minute resolution: grid starts found by reading the local
clock at every UTC minute of the window, availability and busy time as per-minute masks
(slice assignment, no interval arithmetic), rules applied literally. All data lies on
whole minutes, so minute resolution is exact.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from scheduling_support import (
    MINUTE,
    ZONES,
    MinuteMap,
    busy_intervals,
    grid_minutes_in,
    near_transitions,
    staff_id,
    weekly_schedules,
)

from booklnk.catalog.schedule_rules import Span, WeeklySchedule, WeeklySpan
from booklnk.scheduling.availability import (
    AvailabilityRequest,
    Candidate,
    ServiceSpec,
    Slot,
    SlotRejection,
    check_slot,
    list_slots,
)
from booklnk.scheduling.busy import Busy
from booklnk.scheduling.calendar import expand_schedule
from booklnk.scheduling.intervals import Interval, IntervalSet
from booklnk.scheduling.localtime import day_start, local_dates
from booklnk.scheduling.rules import SlotRules

ALWAYS_OPEN = WeeklySchedule([WeeklySpan(d, Span(0, 1440)) for d in range(7)])
KINDS = ("chair", "room")


@dataclass(frozen=True)
class Raw:
    """One candidate's inputs before the engine sees them: schedules and unsorted busy list."""

    id: uuid.UUID
    available: IntervalSet  # expansion of its own schedule (time off removed)
    busy: list[Interval]


@dataclass(frozen=True)
class Scenario:
    request: AvailabilityRequest
    window: Interval
    business: IntervalSet
    staff: list[Raw]
    resources: dict[str, list[Raw]]


def _week(draw: st.DrawFn) -> WeeklySchedule:
    return ALWAYS_OPEN if draw(st.booleans()) else draw(weekly_schedules())


def _raw(draw: st.DrawFn, n: int, span: Interval, zone: ZoneInfo) -> Raw:
    """A candidate with a random week, random time off and random (unsorted) busy time."""
    first, last = local_dates(span, zone)
    time_off = draw(busy_intervals(span, max_count=2))
    own = expand_schedule(_week(draw), zone, first=first, last=last, time_off=time_off)
    return Raw(staff_id(n), own, draw(busy_intervals(span)))


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    zone = draw(st.sampled_from(ZONES))
    day = draw(near_transitions(zone))
    grid = draw(st.sampled_from([5, 10, 15, 20, 30, 45, 60]))
    options = draw(
        st.lists(st.sampled_from([10, 15, 20, 30, 45, 60, 90]), min_size=1, max_size=3, unique=True)
    )
    buffer = st.sampled_from([0, 5, 10, 15, 25])
    notice = draw(st.sampled_from([0, 0, 15, 90, 600]))
    rules = SlotRules(grid, notice, draw(st.integers(0, 3)), draw(buffer), draw(buffer))
    kinds = tuple(draw(st.lists(st.sampled_from(KINDS), unique=True, max_size=2)))
    service = ServiceSpec(tuple(options), draw(st.none() | buffer), draw(st.none() | buffer), kinds)
    start = day_start(day, zone) - draw(st.integers(0, 720)) * MINUTE
    window = Interval(start, start + draw(st.integers(60, 2 * 1440)) * MINUTE)
    now = start + draw(st.integers(-1440, 360)) * MINUTE
    probe = AvailabilityRequest(rules, service, draw(st.sampled_from(options)), zone, now, ())
    span = probe.needed_span(window)
    first, last = local_dates(span, zone)
    business = expand_schedule(_week(draw), zone, first=first, last=last)
    staff = [_raw(draw, n, span, zone) for n in range(1, draw(st.integers(1, 3)) + 1)]
    resources = {
        kind: [
            _raw(draw, 10 * (k + 1) + n, span, zone) for n in range(draw(st.sampled_from([0, 1, 1, 2, 2])))
        ]
        for k, kind in enumerate(KINDS)
    }
    request = AvailabilityRequest(
        rules,
        service,
        probe.duration_minutes,
        zone,
        now,
        [Candidate(s.id, business.intersection(s.available), Busy.of(s.busy)) for s in staff],
        {
            kind: [Candidate(r.id, r.available, Busy.of(r.busy)) for r in raws]
            for kind, raws in resources.items()
        },
    )
    return Scenario(request, window, business, staff, resources)


class Oracle:
    """The rules applied literally, minute by minute."""

    def __init__(self, scenario: Scenario) -> None:
        self.s, self.r = scenario, scenario.request
        self.minutes = MinuteMap(self.r.needed_span(scenario.window))
        opening = self.minutes.mask(scenario.business)
        self.staff = [self._masks(raw, opening) for raw in scenario.staff]
        everywhere = bytearray(b"\x01" * self.minutes.size)
        self.resources = {
            kind: [self._masks(raw, everywhere) for raw in raws] for kind, raws in scenario.resources.items()
        }

    def _masks(self, raw: Raw, opening: bytearray) -> tuple[uuid.UUID, bytearray, bytearray]:
        available = MinuteMap.both(self.minutes.mask(raw.available), opening)
        return raw.id, available, MinuteMap.without(available, self.minutes.mask(raw.busy))

    def grid_starts(self) -> list[datetime]:
        return grid_minutes_in(self.s.window, self.r.zone, self.r.rules.grid_minutes)

    def verdict(self, start: datetime) -> Slot | str:
        rules, now, zone = self.r.rules, self.r.now, self.r.zone
        last_day = now.astimezone(zone).date() + timedelta(days=rules.horizon_days)
        if start < now:
            return "in_past"
        if start < now + rules.min_notice_minutes * MINUTE:
            return "inside_min_notice"
        if start.astimezone(zone).date() > last_day:
            return "beyond_horizon"
        blocked = Interval(start - self.r.before, start + self.r.duration + self.r.after)
        if not any(self.minutes.covers(available, blocked) for _, available, _ in self.staff):
            return "outside_hours"
        staff = tuple(i for i, _, free in self.staff if self.minutes.covers(free, blocked))
        kinds = self.r.service.required_resource_kinds
        resources = {
            k: tuple(i for i, _, free in self.resources[k] if self.minutes.covers(free, blocked))
            for k in kinds
        }
        if not staff or not all(resources.values()):
            return "slot_unavailable"
        return Slot(start, start + self.r.duration, staff, resources)


def _outcome(result: Slot | SlotRejection) -> Slot | str:
    return result.code if isinstance(result, SlotRejection) else result


PROPERTY = settings(max_examples=40, deadline=None)


@PROPERTY
@given(scenarios())
def test_no_offered_slot_overlaps_busy_time_or_leaves_availability(scenario: Scenario) -> None:
    request, oracle = scenario.request, Oracle(scenario)
    staff = {raw.id: raw for raw in scenario.staff}
    masks = {i: available for i, available, _ in oracle.staff}
    for slot in list_slots(request, scenario.window):
        blocked = request.blocked(slot.start)
        assert scenario.window.start <= slot.start < scenario.window.end
        for member in slot.staff_ids:
            assert not any(blocked.overlaps(busy) for busy in staff[member].busy)
            assert oracle.minutes.covers(masks[member], blocked)
        for kind, ids in slot.resource_ids.items():
            raws = {raw.id: raw for raw in scenario.resources[kind]}
            for resource in ids:
                assert not any(blocked.overlaps(busy) for busy in raws[resource].busy)
                assert raws[resource].available.contains(blocked)


@PROPERTY
@given(scenarios())
def test_every_slot_the_oracle_allows_is_listed_with_the_same_options(scenario: Scenario) -> None:
    oracle = Oracle(scenario)
    expected = {}
    for start in oracle.grid_starts():
        verdict = oracle.verdict(start)
        if isinstance(verdict, Slot):
            expected[start] = verdict
    listed = {slot.start: slot for slot in list_slots(scenario.request, scenario.window)}
    assert listed == expected


@PROPERTY
@given(scenarios())
def test_list_and_check_agree_on_every_start_and_rule(scenario: Scenario) -> None:
    request, oracle = scenario.request, Oracle(scenario)
    listed = {slot.start: slot for slot in list_slots(request, scenario.window)}
    grid = oracle.grid_starts()
    for start in grid:
        outcome = _outcome(check_slot(request, start))
        assert outcome == oracle.verdict(start), start.astimezone(request.zone)
        assert (start in listed) == isinstance(outcome, Slot)
    for slot in listed.values():
        assert check_slot(request, slot.start) == slot
        for member in slot.staff_ids:
            narrowed = check_slot(request, slot.start, staff_id=member)
            assert isinstance(narrowed, Slot)
            assert narrowed.staff_ids == (member,)
    on_grid = set(grid)
    for start in grid[:20]:
        if start + MINUTE < scenario.window.end and start + MINUTE not in on_grid:
            assert _outcome(check_slot(request, start + MINUTE)) == "off_grid"
