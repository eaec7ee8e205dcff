"""The front desk: the places an account works at, the day of one (a column per staff
member, bookings as blocks coloured by status, "now" marked, the next customer named), and
a booking's panel with the actions the graph allows from its status, one tap each: check
in, complete, no-show, their undo, cancel (the policy's outcome shown first). Staff and
owners only: the same guard as the API's staff routes."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from booklnk.booking import listing
from booklnk.booking.lifecycle import TRANSITIONS, Action
from booklnk.catalog import service as catalog
from booklnk.flows import bookings as booking_flows
from booklnk.flows import described_bookings
from booklnk.kernel.money import MINOR_UNITS
from booklnk.tenancy.models import Role
from booklnk.tenancy.service import access_business, describe_user
from booklnk.web import day_plan, presenting, rendering
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
) -> Response:
    language, now = language_of(request), now_of(request)
    ctx = await access_business(tx, actor, business_id, require=Role.STAFF)
    zone = ZoneInfo(ctx.time_zone)
    shown = on or now.astimezone(zone).date()
    midnight = presenting.local_midnight(shown, zone)
    found, customers = await described_bookings.of_business_day(
        tx, ctx, midnight, presenting.local_midnight(shown + timedelta(days=1), zone)
    )
    staff, _ = await catalog.list_staff(tx, ctx, catalog.Listing(cursor=None, limit=100))
    if not ctx.is_owner:
        # Staff see their own column (owners, everyone's); one not on the rota sees all.
        own = [s for s in staff if s.user_id == actor.user_id]
        staff = own or staff
    items = [
        day_plan.Item(
            d.detail.booking.id,
            d.detail.booking.staff_id,
            d.detail.booking.starts_at,
            d.detail.booking.ends_at,
        )
        for d in found
    ]
    laid = day_plan.plan(midnight, [s.id for s in staff], items, now=now)
    by_id = {d.detail.booking.id: d for d in found}
    upcoming = [
        d for d in found if d.detail.booking.starts_at >= now and d.detail.booking.status.value == "confirmed"
    ]
    return rendering.page(
        request,
        language,
        "desk_day.html",
        ctx=ctx,
        staff=staff,
        plan=laid,
        by_id=by_id,
        customers=customers,
        next_up=upcoming[0] if upcoming else None,
        shown=shown,
        long_day=presenting.long_date(shown, language),
        previous=(shown - timedelta(days=1)).isoformat(),
        following=(shown + timedelta(days=1)).isoformat(),
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
    actions = [a.value for a in DESK_ACTIONS if (booking.status, a) in TRANSITIONS]
    cancellable = (booking.status, Action.CANCEL) in TRANSITIONS
    quote = (
        await booking_flows.cancellation_quote(tx, ctx, booking_id, now=now_of(request))
        if cancellable
        else None
    )
    customers = await listing.customers_of(tx, ctx, [booking_id])
    return rendering.page(
        request,
        language,
        "desk_booking.html",
        found=found,
        booking=booking,
        money=found.detail.money,
        customer=customers.get(booking_id),
        request_done=done is not None,
        due_typed=typed_amount(found.detail.money.balance_due_minor, found.detail.money.currency),
        actions=actions,
        quote=quote,
        back=f"/{language}/desk/{business_id}?on={day_of.isoformat()}",
        here=f"/{language}/desk/{business_id}/bookings/{booking_id}",
    )


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
