"""Changing a booking's time at the front desk: the free times of the same service and
length on a chosen day (with its staff member, another one, or anyone), and the move itself
through the same application service a customer's move uses. The version the page was read
at goes with the move: a booking changed meanwhile is refused (412) with a sentence, as is a
time taken meanwhile (409); the error pages are the guard's."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from booklnk.booking.service import Move
from booklnk.catalog import service as catalog
from booklnk.flows import availability, described_bookings
from booklnk.flows import bookings as booking_flows
from booklnk.kernel.errors import ValidationFailed
from booklnk.scheduling.intervals import Interval
from booklnk.tenancy.models import Role
from booklnk.tenancy.service import access_business
from booklnk.web import presenting, rendering
from booklnk.web.guard import (
    FormDep,
    SessionDep,
    SignedInDep,
    WebRoute,
    language_of,
    now_of,
    parse_uuid,
    posted_instant,
    posted_version,
    see_other,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
STAFF_LIMIT = 100


def _chosen_day(typed: str | None, fallback: date) -> date:
    """The day the form asked for (`YYYY-MM-DD`), or the fallback when none was asked."""
    if not typed:
        return fallback
    try:
        return date.fromisoformat(typed)
    except ValueError:
        raise ValidationFailed.on("query.day", "date", "Pick a day from the calendar.") from None


def _who(current: uuid.UUID | None, free: Sequence[uuid.UUID]) -> uuid.UUID | None:
    """With anyone: the booking's own staff member when free then (the customer keeps their
    barber), else the first one free."""
    if current in free:
        return current
    return free[0] if free else None


@router.get("/desk/{business_id}/bookings/{booking_id}/reschedule")
async def reschedule_page(
    request: Request,
    business_id: uuid.UUID,
    booking_id: uuid.UUID,
    tx: SessionDep,
    actor: SignedInDep,
    day: Annotated[str | None, Query(max_length=20)] = None,
    staff: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    language, now = language_of(request), now_of(request)
    ctx = await access_business(tx, actor, business_id, require=Role.STAFF)
    found = await described_bookings.one(tx, ctx, booking_id)
    booking = found.detail.booking
    zone = ZoneInfo(ctx.time_zone)
    today = now.astimezone(zone).date()
    chosen = _chosen_day(day, max(booking.starts_at.astimezone(zone).date(), today))
    view = await catalog.get_service(tx, ctx, booking.service_id)
    members, _more = await catalog.list_staff(tx, ctx, catalog.Listing(cursor=None, limit=STAFF_LIMIT))
    names = {m.id: m.display_name for m in members}
    # "Anyone" unless a staff member who performs the service was asked for ("" is anyone).
    staff_id = booking.staff_id if staff is None else parse_uuid(staff)
    if staff_id not in view.staff_ids:
        staff_id = None
    length = int((booking.ends_at - booking.starts_at).total_seconds() // 60)
    slots: list[tuple[datetime, uuid.UUID | None]] = []
    # Only days a booking can be moved to are searched (a year 9999 would not even fit a day).
    if booking.session_id is None and today <= chosen <= today + timedelta(days=ctx.rules.horizon_days):
        window = Interval(
            max(presenting.local_midnight(chosen, zone), now),
            presenting.local_midnight(chosen + timedelta(days=1), zone),
        )
        searched = await availability.search(
            tx,
            ctx,
            service_id=booking.service_id,
            staff_id=staff_id,
            duration_minutes=length,
            window=window,
            now=now,
        )
        if isinstance(searched, availability.Slots):
            slots = [(s.start, staff_id or _who(booking.staff_id, s.staff_ids)) for s in searched.slots]
    here = f"/{language}/desk/{business_id}/bookings/{booking_id}"
    return rendering.page(
        request,
        language,
        "desk_reschedule.html",
        found=found,
        booking=booking,
        chosen=chosen,
        today=today,
        long_day=presenting.long_date(chosen, language),
        staff_choices=[(sid, names[sid]) for sid in view.staff_ids if sid in names],
        staff_id=staff_id,
        names=names,
        slots=slots,
        movable=booking.session_id is None,
        back=here,
        action=f"{here}/reschedule",
    )


@router.post("/desk/{business_id}/bookings/{booking_id}/reschedule")
async def reschedule(
    request: Request,
    business_id: uuid.UUID,
    booking_id: uuid.UUID,
    tx: SessionDep,
    actor: SignedInDep,
    posted: FormDep,
) -> Response:
    language = language_of(request)
    ctx = await access_business(tx, actor, business_id, require=Role.STAFF)
    version = posted_version(posted)
    if version is None:  # the desk always moves what it saw: never a blind overwrite
        raise ValidationFailed.on("form.version", "required", "Open the booking again and pick the time.")
    current = await booking_flows.get(tx, ctx, booking_id)
    length = int((current.booking.ends_at - current.booking.starts_at).total_seconds() // 60)
    change = Move(
        starts_at=posted_instant(posted), staff_id=parse_uuid(posted.get("staff")), duration_minutes=length
    )
    await booking_flows.reschedule(tx, ctx, booking_id, change, expected_version=version, now=now_of(request))
    return see_other(f"/{language}/desk/{business_id}/bookings/{booking_id}?done=moved")
