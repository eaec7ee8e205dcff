"""The availability engine on hand-made cases: each rule makes slots appear or disappear exactly."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from scheduling_support import CAIRO, iv, local, staff_id, utc

from booklnk.business_types.loader import builtin_definitions
from booklnk.scheduling.availability import (
    AvailabilityRequest,
    Candidate,
    ServiceSpec,
    Slot,
    SlotRejection,
    bit_positions,
    check_slot,
    list_slots,
    open_starts,
)
from booklnk.scheduling.busy import Busy
from booklnk.scheduling.errors import SlotRuleBroken, SlotUnavailable, slot_error
from booklnk.scheduling.intervals import Interval, IntervalSet
from booklnk.scheduling.rules import SlotRule, SlotRules

UTC_ZONE = ZoneInfo("UTC")
ANA, BOB = staff_id(1), staff_id(2)
CHAIR_1, CHAIR_2 = staff_id(11), staff_id(12)
MORNING = iv("2026-03-02T09:00", "2026-03-02T12:00")
NOW = utc("2026-03-01T00:00")


def who(n: uuid.UUID, *available: Interval, busy: Sequence[Interval] = ()) -> Candidate:
    return Candidate(n, IntervalSet(available), Busy.of(busy))


def request(
    *staff: Candidate,
    grid: int = 15,
    duration: int = 30,
    options: tuple[int, ...] = (30, 60),
    before: int | None = None,
    after: int | None = None,
    rules: SlotRules | None = None,
    kinds: tuple[str, ...] = (),
    resources: Mapping[str, Sequence[Candidate]] | None = None,
    zone: ZoneInfo = UTC_ZONE,
    now: datetime = NOW,
) -> AvailabilityRequest:
    return AvailabilityRequest(
        rules=rules or SlotRules(grid_minutes=grid, horizon_days=60),
        service=ServiceSpec(options, before, after, kinds),
        duration_minutes=duration,
        zone=zone,
        now=now,
        staff=staff,
        resources=resources or {},
    )


def starts(slots: list[Slot], zone: ZoneInfo = UTC_ZONE) -> list[str]:
    return [s.start.astimezone(zone).strftime("%H:%M") for s in slots]


def rule_of(result: Slot | SlotRejection) -> str:
    return result.code if isinstance(result, SlotRejection) else "ok"


def test_slots_lie_on_the_grid_and_fit_inside_hours() -> None:
    slots = list_slots(request(who(ANA, MORNING), grid=30, duration=60), MORNING)
    assert starts(slots) == ["09:00", "09:30", "10:00", "10:30", "11:00"]
    assert slots[0].end - slots[0].start == timedelta(minutes=60)
    assert all(s.staff_ids == (ANA,) and s.resource_ids == {} for s in slots)


@pytest.mark.parametrize(
    ("after", "last_before_busy"), [(0, "09:30"), (15, "09:15"), (16, "09:00"), (30, "09:00")]
)
def test_buffer_after_hides_a_slot_exactly_when_blocked_time_would_overlap(
    after: int, last_before_busy: str
) -> None:
    busy = [iv("2026-03-02T10:00", "2026-03-02T11:00")]
    slots = list_slots(request(who(ANA, MORNING, busy=busy), after=after), MORNING)
    assert max(s for s in starts(slots) if s < "10:00") == last_before_busy


@pytest.mark.parametrize(("before", "first_after_busy"), [(0, "11:00"), (15, "11:15"), (1, "11:15")])
def test_buffer_before_hides_the_slot_right_after_a_booking(before: int, first_after_busy: str) -> None:
    busy = [iv("2026-03-02T10:00", "2026-03-02T11:00")]
    slots = list_slots(request(who(ANA, MORNING, busy=busy), before=before), MORNING)
    assert min(s for s in starts(slots) if s >= "10:00") == first_after_busy


def test_window_edges_offer_starts_inside_the_window_whose_blocked_time_runs_past_it() -> None:
    """The only free time begins exactly at the window's last grid start; the booking runs
    past the window's end, which bounds starts, not bookings."""
    busy = [iv("2026-03-02T09:00", "2026-03-02T11:00")]
    window = iv("2026-03-02T09:00", "2026-03-02T11:15")
    assert starts(list_slots(request(who(ANA, MORNING, busy=busy)), window)) == ["11:00"]
    assert starts(list_slots(request(who(ANA, MORNING)), iv("2026-03-02T09:20", "2026-03-02T09:50"))) == [
        "09:30",
        "09:45",
    ]


def test_buffers_must_fit_inside_hours_too() -> None:
    slots = list_slots(request(who(ANA, MORNING), before=15, after=15), MORNING)
    assert starts(slots)[0] == "09:15"
    assert starts(slots)[-1] == "11:15"


def test_service_buffers_default_to_the_business_type() -> None:
    rules = SlotRules(grid_minutes=15, horizon_days=60, buffer_before_minutes=15, buffer_after_minutes=15)
    typed = request(who(ANA, MORNING), rules=rules)
    assert (typed.before, typed.after) == (timedelta(minutes=15), timedelta(minutes=15))
    own = request(who(ANA, MORNING), rules=rules, before=0, after=5)
    assert (own.before, own.after) == (timedelta(0), timedelta(minutes=5))
    assert own.blocked(utc("2026-03-02T10:00")) == iv("2026-03-02T10:00", "2026-03-02T10:35")


def test_a_barber_without_a_free_chair_is_no_slot() -> None:
    chair_busy = [iv("2026-03-02T09:00", "2026-03-02T10:00")]
    chairs = {"chair": [who(CHAIR_1, MORNING, busy=chair_busy)]}
    req = request(who(ANA, MORNING), kinds=("chair",), resources=chairs)
    slots = list_slots(req, MORNING)
    assert starts(slots)[0] == "10:00"
    assert slots[0].resource_ids == {"chair": (CHAIR_1,)}
    assert rule_of(check_slot(req, utc("2026-03-02T09:30"))) == "slot_unavailable"
    assert list_slots(request(who(ANA, MORNING), kinds=("chair",)), MORNING) == []  # no chairs at all


def test_one_resource_must_cover_the_whole_blocked_time() -> None:
    chairs = {
        "chair": [
            who(CHAIR_1, iv("2026-03-02T09:00", "2026-03-02T10:00")),
            who(CHAIR_2, iv("2026-03-02T10:00", "2026-03-02T11:00")),
        ]
    }
    req = request(who(ANA, MORNING), duration=60, kinds=("chair",), resources=chairs)
    assert starts(list_slots(req, MORNING)) == ["09:00", "10:00"]  # never 09:15..09:45


def test_every_required_kind_needs_a_free_resource_and_all_free_ones_are_listed() -> None:
    resources = {
        "chair": [who(CHAIR_1, MORNING), who(CHAIR_2, MORNING)],
        "sink": [who(staff_id(21), MORNING)],
    }
    req = request(who(ANA, MORNING), kinds=("chair", "sink"), resources=resources)
    first = list_slots(req, MORNING)[0]
    assert first.resource_ids == {"chair": (CHAIR_1, CHAIR_2), "sink": (staff_id(21),)}
    assert check_slot(req, first.start) == first


def test_a_start_where_one_run_of_a_candidate_ends_and_the_next_begins_keeps_them() -> None:
    # A 60-minute grid and a 30-minute service: Ana's first free stretch fits 09:00 only,
    # her second (after a 10-minute booking) 10:00 only, so the run ending at 10:00 and the
    # run starting there meet at one start.
    busy = [iv("2026-03-02T09:30", "2026-03-02T09:40"), iv("2026-03-02T10:30", "2026-03-02T12:00")]
    req = request(who(ANA, MORNING, busy=busy), who(BOB, MORNING, busy=[MORNING]), grid=60)
    slots = list_slots(req, MORNING)
    assert [(slot.start, slot.staff_ids) for slot in slots] == [
        (utc("2026-03-02T09:00"), (ANA,)),
        (utc("2026-03-02T10:00"), (ANA,)),
    ]
    assert all(check_slot(req, slot.start) == slot for slot in slots)


def test_openings_are_masks_over_the_candidates_and_spell_out_as_the_slots() -> None:
    ana = who(ANA, iv("2026-03-02T09:00", "2026-03-02T10:00"))
    bob = who(BOB, iv("2026-03-02T09:30", "2026-03-02T11:00"))
    req = request(ana, bob)
    openings = open_starts(req, MORNING)
    assert openings.staff_ids == (ANA, BOB)
    at = dict(zip(starts(openings.slots()), openings.staff, strict=True))
    assert (at["09:00"], at["09:30"], at["10:30"]) == (0b01, 0b11, 0b10)
    assert openings.slots() == list_slots(req, MORNING)
    slots = openings.slots()
    assert slots[0].staff_ids is slots[1].staff_ids  # one tuple per distinct set
    assert list(bit_positions(0b1011)) == [0, 1, 3]


def test_any_staff_is_the_union_and_a_named_staff_member_only_their_own() -> None:
    ana = who(ANA, iv("2026-03-02T09:00", "2026-03-02T10:00"))
    bob = who(BOB, iv("2026-03-02T09:30", "2026-03-02T11:00"))
    slots = {s.start.strftime("%H:%M"): s.staff_ids for s in list_slots(request(ana, bob), MORNING)}
    assert slots["09:00"] == (ANA,)
    assert slots["09:30"] == (ANA, BOB)
    assert slots["10:30"] == (BOB,)
    named = list_slots(request(ana), MORNING)
    assert starts(named) == ["09:00", "09:15", "09:30"]
    narrowed = check_slot(request(ana, bob), utc("2026-03-02T09:30"), staff_id=BOB)
    assert isinstance(narrowed, Slot)
    assert narrowed.staff_ids == (BOB,)
    assert rule_of(check_slot(request(ana, bob), utc("2026-03-02T09:00"), staff_id=BOB)) == "outside_hours"
    with pytest.raises(ValueError, match="not among the candidates"):
        check_slot(request(ana), utc("2026-03-02T09:00"), staff_id=BOB)


def test_min_notice_counts_from_now_and_the_grid_from_local_midnight() -> None:
    now = utc("2026-03-02T09:07")
    rules = SlotRules(grid_minutes=15, min_notice_minutes=30, horizon_days=1)
    req = request(who(ANA, MORNING), rules=rules, now=now)
    assert starts(list_slots(req, MORNING))[0] == "09:45"
    assert rule_of(check_slot(req, utc("2026-03-02T09:00"))) == "in_past"
    assert rule_of(check_slot(req, utc("2026-03-02T09:30"))) == "inside_min_notice"
    assert rule_of(check_slot(req, utc("2026-03-02T09:45"))) == "ok"


def test_horizon_ends_with_the_last_local_day() -> None:
    """horizon_days = 1 at 22:30 on Monday in Cairo: all of Tuesday, nothing on Wednesday."""
    now = local("2026-03-02T22:30", CAIRO)
    always = who(ANA, Interval(now, now + timedelta(days=5)))
    req = request(always, rules=SlotRules(grid_minutes=30, horizon_days=1), zone=CAIRO, now=now)
    slots = list_slots(req, Interval(now, now + timedelta(days=5)))
    assert slots[-1].start == local("2026-03-03T23:30", CAIRO).astimezone(UTC)
    assert rule_of(check_slot(req, local("2026-03-03T23:30", CAIRO))) == "ok"
    assert rule_of(check_slot(req, local("2026-03-04T00:00", CAIRO))) == "beyond_horizon"


def test_odd_grid_is_counted_in_local_wall_clock_minutes() -> None:
    """Kolkata is UTC+05:30: the 20-minute grid lands on :00/:20/:40 local, not UTC."""
    kolkata = ZoneInfo("Asia/Kolkata")
    hours = Interval(local("2026-03-02T09:00", kolkata), local("2026-03-02T11:00", kolkata))
    req = request(who(ANA, hours), grid=20, duration=60, options=(60,), zone=kolkata)
    assert starts(list_slots(req, hours), kolkata) == ["09:00", "09:20", "09:40", "10:00"]
    assert rule_of(check_slot(req, local("2026-03-02T09:10", kolkata))) == "off_grid"
    assert rule_of(check_slot(req, local("2026-03-02T09:20:30", kolkata))) == "off_grid"


def test_repeated_hour_offers_each_real_instant_once() -> None:
    hours = Interval(local("2026-10-29T22:00", CAIRO), local("2026-10-30T00:00", CAIRO))
    req = request(who(ANA, hours), grid=30, zone=CAIRO, now=utc("2026-10-01T00:00"))
    slots = list_slots(req, hours)
    assert [s.start.astimezone(CAIRO).strftime("%H:%M%z") for s in slots] == [
        "22:00+0300",
        "22:30+0300",
        "23:00+0300",
        "23:30+0300",
        "23:00+0200",
        "23:30+0200",
    ]
    assert all(s.end - s.start == timedelta(minutes=30) for s in slots)  # true elapsed minutes
    second = local("2026-10-29T23:30", CAIRO, fold=1)
    assert check_slot(req, second) == slots[-1]


def test_no_slot_starts_in_the_skipped_hour() -> None:
    hours = Interval(local("2026-04-23T23:00", CAIRO), local("2026-04-24T02:00", CAIRO))
    slots = list_slots(request(who(ANA, hours), grid=30, zone=CAIRO), hours)
    assert [s.start.astimezone(CAIRO).strftime("%H:%M") for s in slots] == [
        "23:00",
        "23:30",
        "01:00",
        "01:30",
    ]
    assert slots[1].end == slots[2].start  # 23:30 + 30 real minutes is 01:00


def test_check_slot_reports_the_first_broken_rule() -> None:
    busy = [iv("2026-03-02T10:00", "2026-03-02T11:00")]
    req = request(who(ANA, MORNING, busy=busy))
    assert rule_of(check_slot(req, utc("2026-03-02T09:00"))) == "ok"
    assert rule_of(check_slot(req, utc("2026-03-02T09:05"))) == "off_grid"
    assert rule_of(check_slot(req, utc("2026-02-28T09:00"))) == "in_past"
    assert rule_of(check_slot(req, utc("2026-05-02T09:00"))) == "beyond_horizon"
    assert rule_of(check_slot(req, utc("2026-03-02T08:00"))) == "outside_hours"
    assert rule_of(check_slot(req, utc("2026-03-02T11:45"))) == "outside_hours"  # ends after closing
    assert rule_of(check_slot(req, utc("2026-03-02T10:15"))) == "slot_unavailable"
    bad = request(who(ANA, MORNING), duration=45)
    assert rule_of(check_slot(bad, utc("2026-03-02T09:05"))) == "invalid_duration"  # checked first
    with pytest.raises(SlotRuleBroken) as raised:
        list_slots(bad, MORNING)
    assert raised.value.code == "invalid_duration"


def test_slot_errors_are_422_naming_the_rule_or_409_when_taken() -> None:
    broken = slot_error(SlotRule.OFF_GRID, field="body.start_at")
    assert (broken.status, broken.code, broken.issues[0].field) == (422, "off_grid", "body.start_at")
    taken = slot_error(SlotRule.SLOT_UNAVAILABLE, field="body.start_at")
    assert isinstance(taken, SlotUnavailable)
    assert (taken.status, taken.code) == (409, "slot_unavailable")


def test_needed_span_covers_buffers_and_the_last_duration() -> None:
    req = request(who(ANA, MORNING), duration=60, before=10, after=5)
    assert req.needed_span(MORNING) == iv("2026-03-02T08:50", "2026-03-02T13:05")


def test_rules_come_from_a_business_types_effective_rules() -> None:
    (barbershop,) = [d.default_rules() for d in builtin_definitions() if d.key == "barbershop"]
    rules = SlotRules.from_effective(barbershop)
    assert rules == SlotRules(grid_minutes=15, min_notice_minutes=0, horizon_days=30, buffer_after_minutes=5)


def test_rules_refuse_a_grid_that_does_not_divide_the_day() -> None:
    with pytest.raises(ValueError, match="does not divide"):
        SlotRules(grid_minutes=7)
