"""Feeding the pure engine: one business's calendar, loaded in a bounded number of
queries, turned into the engine's candidates. Listing and booking both come through here,
so what the list offers, booking accepts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking import calendars as calendar_data
from booklnk.booking.calendars import OwnerCalendar, OwnerKey
from booklnk.business_types.definition import EffectiveRules
from booklnk.catalog import repository as catalog
from booklnk.catalog.models import Resource, Service, StaffMember
from booklnk.kernel.errors import ValidationFailed
from booklnk.scheduling.availability import AvailabilityRequest, Candidate, Openings, ServiceSpec, open_starts
from booklnk.scheduling.busy import Busy
from booklnk.scheduling.calendar import expand_schedule
from booklnk.scheduling.intervals import Interval, IntervalSet
from booklnk.scheduling.localtime import local_dates
from booklnk.scheduling.rules import SlotRules
from booklnk.tenancy.context import BusinessContext

BUSINESS: OwnerKey = ("business", None)


@dataclass(frozen=True, slots=True)
class Offer:
    """The engine's request, and the rows behind its candidates (for the booking writes)."""

    request: AvailabilityRequest
    rules: EffectiveRules
    service: Service
    staff: dict[uuid.UUID, StaffMember]
    resources: dict[uuid.UUID, Resource]


async def prepare(
    session: AsyncSession,
    ctx: BusinessContext,
    *,
    service_id: uuid.UUID,
    staff_id: uuid.UUID | None,
    duration_minutes: int | None,
    window: Interval,
    now: datetime,
    source: str,
    walk_in: bool = False,
) -> Offer:
    """Everything the engine needs to list `window` or check a start inside it.
    `source` ("query" or "body") prefixes the field names of 422s. A `walk_in` starts
    now, off the grid and inside any minimum notice; hours and busy time still apply."""
    rules = ctx.rules
    service, staff = await catalog.service_with_staff(session, ctx.business_id, service_id, staff_id=staff_id)
    if service is None or not service.active:
        raise ValidationFailed.on(f"{source}.service_id", "unknown_service", "No such bookable service.")
    if rules.mode != "appointment":
        raise ValidationFailed.on(
            f"{source}.service_id", "class_mode", "Class businesses are booked by session, not by time."
        )
    if staff_id is not None and not staff:
        raise ValidationFailed.on(f"{source}.staff_id", "unknown_staff", "Nobody by that id performs it.")
    resources = await calendar_data.resources_of_kinds(
        session, ctx.business_id, service.required_resource_kinds
    )
    spec = ServiceSpec(
        tuple(service.duration_options_minutes),
        service.buffer_before_minutes,
        service.buffer_after_minutes,
        tuple(service.required_resource_kinds),
    )
    slot_rules = SlotRules.from_effective(rules)
    if walk_in:
        slot_rules = replace(slot_rules, grid_minutes=1, min_notice_minutes=0)
    partial = AvailabilityRequest(
        rules=slot_rules,
        service=spec,
        duration_minutes=duration_minutes or service.duration_options_minutes[0],
        zone=ZoneInfo(ctx.time_zone),
        now=now,
        staff=[],
    )
    span = partial.needed_span(window)
    dates = _dates(span, partial.zone)
    calendars = await calendar_data.load(
        session, ctx.business_id, staff, resources, dates=dates, span=span, now=now
    )
    request = _with_candidates(partial, calendars, staff, resources, span)
    return Offer(request, rules, service, {s.id: s for s in staff}, {r.id: r for r in resources})


def _dates(span: Interval, zone: ZoneInfo) -> tuple[date, date]:
    # A day of margin each side: a local day's hours can reach into the span from the
    # neighbouring date (late shifts, DST days).
    first, last = local_dates(span, zone)
    return first - timedelta(days=1), last + timedelta(days=1)


def _has_schedule(calendar: OwnerCalendar | None) -> bool:
    return calendar is not None and bool(calendar.week.hours or calendar.overrides)


def _schedule_key(calendar: OwnerCalendar) -> tuple[object, ...]:
    """Everything `expand_schedule` reads from a calendar, as a hashable value: equal keys
    expand to equal working time. (It merges and sorts hours, breaks and time off, so their
    order does not matter; overrides keep theirs, as it picks one per date.)"""
    week = calendar.week
    return (
        frozenset(week.hours),
        frozenset(week.breaks),
        tuple((o.override_date, o.closed, tuple(o.hours)) for o in calendar.overrides),
        frozenset(calendar.time_off),
    )


def _with_candidates(
    partial: AvailabilityRequest,
    calendars: dict[OwnerKey, OwnerCalendar],
    staff: list[StaffMember],
    resources: Sequence[Resource],
    span: Interval,
) -> AvailabilityRequest:
    """Staff work their own hours within the business's opening hours; a business with no
    hours set restricts nobody; a resource with no hours of its own follows the business
    (less its time off); a staff member with no hours is not bookable."""
    first, last = _dates(span, partial.zone)

    def working(cal: OwnerCalendar) -> IntervalSet:
        return expand_schedule(
            cal.week, partial.zone, first=first, last=last, overrides=cal.overrides, time_off=cal.time_off
        )

    business = calendars.get(BUSINESS)
    opening = working(business) if business is not None and _has_schedule(business) else IntervalSet([span])
    # Staff of one business mostly share their hours: each distinct schedule is expanded
    # (and met with the opening hours) once, not once per staff member.
    available: dict[tuple[object, ...], IntervalSet] = {}

    def candidate(key: OwnerKey, default: IntervalSet) -> Candidate:
        calendar = calendars.get(key)
        if calendar is not None and _has_schedule(calendar):
            schedule = _schedule_key(calendar)
            if schedule not in available:
                available[schedule] = working(calendar).intersection(opening)
            own = available[schedule]
        else:
            # No hours of its own: it follows `default`, still minus its own time off (a
            # chair out for repair is out, whatever hours it keeps).
            off = IntervalSet(calendar.time_off) if calendar is not None else IntervalSet()
            own = default.intersection(opening).subtract(off)
        assert key[1] is not None
        return Candidate(key[1], own, calendar.busy if calendar else Busy())

    kinds = partial.service.required_resource_kinds
    return replace(
        partial,
        staff=[candidate(("staff", s.id), IntervalSet()) for s in staff],
        resources={
            kind: [candidate(("resource", r.id), opening) for r in resources if r.kind == kind]
            for kind in kinds
        },
    )


MAX_WINDOW = timedelta(days=62)


async def search(
    session: AsyncSession,
    ctx: BusinessContext,
    *,
    service_id: uuid.UUID,
    staff_id: uuid.UUID | None,
    duration_minutes: int | None,
    window: Interval,
    now: datetime,
) -> tuple[Offer, Openings]:
    """Bookable starts in `window` (at most 62 days)."""
    if window.end - window.start > MAX_WINDOW:
        raise ValidationFailed.on("query.to", "max_window", "Search at most 62 days at a time.")
    offer = await prepare(
        session,
        ctx,
        service_id=service_id,
        staff_id=staff_id,
        duration_minutes=duration_minutes,
        window=window,
        now=now,
        source="query",
    )
    if not offer.request.duration_is_valid():
        raise ValidationFailed.on("query.duration", "invalid_duration", "Not one of the service's durations.")
    return offer, open_starts(offer.request, window)
