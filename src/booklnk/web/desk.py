"""The front desk: the places an account works at, the day of one (a column per staff
member, bookings as blocks coloured by status, "now" marked, the next customer named), and
a booking's panel with the actions the graph allows from its status, one tap each: check
in, complete, no-show, their undo, cancel (the policy's outcome shown first). Staff and
owners only: the same guard as the API's staff routes."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from booklnk.booking import listing
from booklnk.booking.lifecycle import TRANSITIONS, Action, StaffClock, TooEarly, TooLate
from booklnk.booking.models import BookingStatus
from booklnk.business_types.definition import EffectiveRules
from booklnk.flows import bookings as booking_flows
from booklnk.flows import described_bookings
from booklnk.kernel.money import MINOR_UNITS
from booklnk.tenancy.models import Role
from booklnk.tenancy.service import access_business, describe_user
from booklnk.web import desk_calendar, presenting, rendering
from booklnk.web.guard import (
    FormDep,
    SessionDep,
    SignedInDep,
    WebRoute,
    language_of,
    now_of,
    posted_version,
    see_other,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
# The one-tap actions a booking's panel offers, in this order, when its status allows them.
DESK_ACTIONS = (
    Action.CHECK_IN,
    Action.COMPLETE,
    Action.NO_SHOW,
    Action.UNDO_CHECK_IN,
    Action.UNDO_NO_SHOW,
)
# A panel lists a booking's latest messages (confirmation, reminders, changes): a page of them.
PANEL_MESSAGES = 20
# What the desk may move to another time (the booking service refuses the others anyway).
MOVABLE = frozenset({BookingStatus.HELD, BookingStatus.CONFIRMED})


@router.get("/desk")
async def places(request: Request, tx: SessionDep, actor: SignedInDep) -> Response:
    _user, memberships = await describe_user(tx, actor)
    return rendering.page(
        request, language_of(request), "desk_places.html", places=[business for _m, business in memberships]
    )


@router.get("/desk/{business_id}")
async def day(
    request: Request,
    business_id: uuid.UUID,
    tx: SessionDep,
    actor: SignedInDep,
    on: Annotated[date | None, Query()] = None,
    by: Annotated[Literal["staff", "room"], Query()] = "staff",
) -> Response:
    language, now = language_of(request), now_of(request)
    ctx = await access_business(tx, actor, business_id, require=Role.STAFF)
    zone = ZoneInfo(ctx.time_zone)
    shown = on or now.astimezone(zone).date()
    midnight = presenting.local_midnight(shown, zone)
    found, customers = await described_bookings.of_business_day(
        tx, ctx, midnight, presenting.local_midnight(shown + timedelta(days=1), zone)
    )
    view = await desk_calendar.lay_out_day(tx, ctx, actor, found, shown, by_room=by == "room", now=now)
    by_id = {d.detail.booking.id: d for d in found}
    upcoming = [
        d
        for d in found
        if d.detail.booking.starts_at >= now
        and d.detail.booking.status.value == "confirmed"
        and (view.in_full is None or d.detail.booking.id in view.in_full)
    ]
    return rendering.page(
        request,
        language,
        "desk_day.html",
        ctx=ctx,
        columns=view.columns,
        by_room=by == "room",
        in_full=view.in_full,
        plan=view.plan,
        by_id=by_id,
        customers=customers,
        next_up=upcoming[0] if upcoming else None,
        shown=shown,
        long_day=presenting.long_date(shown, language),
        previous=(shown - timedelta(days=1)).isoformat(),
        following=(shown + timedelta(days=1)).isoformat(),
        week_from=desk_calendar.week_start(shown).isoformat(),
        base=f"/{language}/desk/{business_id}",
    )


@router.get("/desk/{business_id}/bookings/{booking_id}")
async def booking_panel(
    request: Request,
    business_id: uuid.UUID,
    booking_id: uuid.UUID,
    tx: SessionDep,
    actor: SignedInDep,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    language = language_of(request)
    ctx = await access_business(tx, actor, business_id, require=Role.STAFF)
    found = await described_bookings.one(tx, ctx, booking_id)
    booking = found.detail.booking
    day_of = booking.starts_at.astimezone(ZoneInfo(ctx.time_zone)).date()
    actions, timing = due_actions(
        ctx.rules, booking.status, booking.starts_at, booking.ends_at, now_of(request)
    )
    cancellable = (booking.status, Action.CANCEL) in TRANSITIONS
    quote = (
        await booking_flows.cancellation_quote(tx, ctx, booking_id, now=now_of(request))
        if cancellable
        else None
    )
    customers = await listing.customers_of(tx, ctx, [booking_id])
    sent, _more = await booking_flows.messages_of(tx, ctx, booking_id, cursor=None, limit=PANEL_MESSAGES)
    return rendering.page(
        request,
        language,
        "desk_booking.html",
        messages=sent,
        movable=booking.session_id is None and booking.status in MOVABLE,
        found=found,
        booking=booking,
        money=found.detail.money,
        customer=customers.get(booking_id),
        request_done=done is not None,
        due_typed=typed_amount(found.detail.money.balance_due_minor, found.detail.money.currency),
        actions=actions,
        timing=timing,
        quote=quote,
        back=f"/{language}/desk/{business_id}?on={day_of.isoformat()}",
        here=f"/{language}/desk/{business_id}/bookings/{booking_id}",
    )


def due_actions(
    rules: EffectiveRules, status: BookingStatus, starts_at: datetime, ends_at: datetime, now: datetime
) -> tuple[list[str], list[tuple[str, datetime]]]:
    """The one-tap actions the status allows and the clock allows now, and for each one the
    clock holds back, why as a sentence key (`early_no_show`, `late_check_in`) and the time
    it opens or closed: the desk sees why a button is missing instead of a refusal after it."""
    clock = StaffClock.of(rules)
    offered: list[str] = []
    held_back: list[tuple[str, datetime]] = []
    for action in DESK_ACTIONS:
        if (status, action) not in TRANSITIONS:
            continue
        try:
            clock.check(action, starts_at=starts_at, ends_at=ends_at, now=now)
        except TooEarly as early:
            held_back.append((f"early_{action.value}", datetime.fromisoformat(str(early.extra["earliest"]))))
        except TooLate as late:
            held_back.append((f"late_{action.value}", datetime.fromisoformat(str(late.extra["latest"]))))
        else:
            offered.append(action.value)
    return offered, held_back


def typed_amount(minor: int, currency: str) -> str:
    """Minor units as the desk's amount field shows them ("150.00")."""
    exponent = MINOR_UNITS.get(currency, 2)
    return f"{Decimal(minor).scaleb(-exponent):.{exponent}f}"


@router.post("/desk/{business_id}/bookings/{booking_id}")
async def act(
    request: Request,
    business_id: uuid.UUID,
    booking_id: uuid.UUID,
    tx: SessionDep,
    actor: SignedInDep,
    posted: FormDep,
) -> Response:
    language = language_of(request)
    ctx = await access_business(tx, actor, business_id, require=Role.STAFF)
    allowed = {a.value for a in (*DESK_ACTIONS, Action.CANCEL)}
    chosen = posted.get("action", "")
    if chosen not in allowed:
        return see_other(f"/{language}/desk/{business_id}/bookings/{booking_id}")
    version = posted_version(posted)
    await booking_flows.act(
        tx, ctx, booking_id, Action(chosen), expected_version=version, now=now_of(request)
    )
    return see_other(f"/{language}/desk/{business_id}/bookings/{booking_id}?done={chosen}")
