"""A customer's own bookings: upcoming and past across businesses with their places in
class waitlists (which they may leave), each booking's page that follows it until it is
settled (after Kashier's page, too), paying again with the methods its service takes, a
printable receipt, adding it to a calendar, and cancelling with what the policy gives
back shown first."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from booklnk.booking import listing
from booklnk.booking.classes import enrolment
from booklnk.booking.lifecycle import Action
from booklnk.booking.models import BookingStatus
from booklnk.booking.service import Move
from booklnk.flows import bookings as booking_flows
from booklnk.flows import described_bookings
from booklnk.payments import checkout
from booklnk.tenancy.service import access_business
from booklnk.web import payment_pages, rendering
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
PAST_DAYS = 90
LIST_LIMIT = 50
# A booking's page keeps following it while it can still change by itself.
UNSETTLED = {BookingStatus.HELD}


@router.get("/my")
async def my_bookings(
    request: Request,
    tx: SessionDep,
    actor: SignedInDep,
    done: Annotated[str | None, Query(pattern="^left_waitlist$")] = None,
) -> Response:
    now = now_of(request)
    waiting = await described_bookings.waiting_of_customer(tx, actor, now=now)
    upcoming = await described_bookings.of_customer(
        tx, actor, listing.BookingFilter(starts_from=now), limit=LIST_LIMIT
    )
    past = await described_bookings.of_customer(
        tx,
        actor,
        listing.BookingFilter(starts_from=now - timedelta(days=PAST_DAYS), starts_before=now),
        limit=LIST_LIMIT,
    )
    return rendering.page(
        request,
        language_of(request),
        "my_bookings.html",
        upcoming=upcoming,
        past=list(reversed(past)),
        waiting=waiting,
        done=done,
    )


@router.post("/my/{business_id}/waitlist/{session_id}/{entry_id}/leave")
async def leave_waitlist(
    request: Request,
    business_id: uuid.UUID,
    session_id: uuid.UUID,
    entry_id: uuid.UUID,
    tx: SessionDep,
    actor: SignedInDep,
    posted: FormDep,
) -> Response:
    """Out of a class's line (404 once promoted or closed meanwhile: the page says so)."""
    ctx = await access_business(tx, actor, business_id, require=None)
    await enrolment.leave_waitlist(tx, ctx, session_id, entry_id)
    return see_other(f"/{language_of(request)}/my?done=left_waitlist")


@router.get("/my/{business_id}/{booking_id}")
async def booking_page(
    request: Request,
    business_id: uuid.UUID,
    booking_id: uuid.UUID,
    tx: SessionDep,
    actor: SignedInDep,
    fragment: Annotated[str | None, Query(pattern="^status$")] = None,
    outcome: Annotated[str | None, Query(pattern="^(paid|pending|failed)$")] = None,
    done: Annotated[str | None, Query(pattern="^(cancelled|moved)$")] = None,
) -> Response:
    language = language_of(request)
    ctx = await access_business(tx, actor, business_id, require=None)
    found = await described_bookings.one(tx, ctx, booking_id)
    booking = found.detail.booking
    here = payment_pages.status_path(language, business_id, booking_id)
    values: dict[str, Any] = {
        "found": found,
        "booking": booking,
        "money": found.detail.money,
        "settled": booking.status not in UNSETTLED,
        "outcome": outcome,
        "follow_url": f"{here}?fragment=status" + (f"&outcome={outcome}" if outcome else ""),
        "here": here,
        "methods": list(await checkout.accepted_methods(tx, ctx, booking.service_id)),
        "share": quote(f"{found.service_name} · {found.business_name}"),
        "now": now_of(request),
    }
    if fragment:
        return rendering.page(request, language, "booking_status.html", **values)
    return rendering.page(request, language, "booking.html", done=done, **values)


@router.get("/my/{business_id}/{booking_id}/receipt")
async def receipt_page(
    request: Request, business_id: uuid.UUID, booking_id: uuid.UUID, tx: SessionDep, actor: SignedInDep
) -> Response:
    language = language_of(request)
    ctx = await access_business(tx, actor, business_id, require=None)
    found = await described_bookings.receipt(tx, ctx, booking_id)
    return rendering.page(
        request,
        language,
        "receipt.html",
        receipt=found,
        found=found.found,
        booking=found.found.detail.booking,
        money=found.found.detail.money,
        back=payment_pages.status_path(language, business_id, booking_id),
        now=now_of(request),
    )


@router.get("/my/{business_id}/{booking_id}/move")
async def move_page(
    request: Request,
    business_id: uuid.UUID,
    booking_id: uuid.UUID,
    tx: SessionDep,
    actor: SignedInDep,
    start: Annotated[datetime, Query()],
    staff: Annotated[uuid.UUID | None, Query()] = None,
) -> Response:
    language = language_of(request)
    ctx = await access_business(tx, actor, business_id, require=None)
    found = await described_bookings.one(tx, ctx, booking_id)
    return rendering.page(
        request,
        language,
        "move.html",
        found=found,
        booking=found.detail.booking,
        start=start,
        staff=staff,
        back=payment_pages.status_path(language, business_id, booking_id),
    )


@router.post("/my/{business_id}/{booking_id}/move")
async def move(
    request: Request,
    business_id: uuid.UUID,
    booking_id: uuid.UUID,
    tx: SessionDep,
    actor: SignedInDep,
    posted: FormDep,
) -> Response:
    language = language_of(request)
    ctx = await access_business(tx, actor, business_id, require=None)
    version = posted_version(posted)
    change = Move(starts_at=posted_instant(posted), staff_id=parse_uuid(posted.get("staff")))
    await booking_flows.reschedule(tx, ctx, booking_id, change, expected_version=version, now=now_of(request))
    return see_other(payment_pages.status_path(language, business_id, booking_id) + "?done=moved")


@router.post("/my/{business_id}/{booking_id}/pay")
async def pay(
    request: Request,
    business_id: uuid.UUID,
    booking_id: uuid.UUID,
    tx: SessionDep,
    actor: SignedInDep,
    posted: FormDep,
) -> Response:
    language = language_of(request)
    ctx = await access_business(tx, actor, business_id, require=None)
    method = posted.get("method", "card")
    return see_other(await payment_pages.checkout_url(request, tx, ctx, booking_id, method, language))


@router.get("/my/{business_id}/{booking_id}/calendar.ics")
async def calendar_file(
    request: Request, business_id: uuid.UUID, booking_id: uuid.UUID, tx: SessionDep, actor: SignedInDep
) -> Response:
    ctx = await access_business(tx, actor, business_id, require=None)
    body = await listing.booking_calendar(tx, ctx, booking_id, now=now_of(request))
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="booking-{booking_id}.ics"'},
    )


@router.get("/my/{business_id}/{booking_id}/cancel")
async def cancel_page(
    request: Request, business_id: uuid.UUID, booking_id: uuid.UUID, tx: SessionDep, actor: SignedInDep
) -> Response:
    language = language_of(request)
    ctx = await access_business(tx, actor, business_id, require=None)
    found = await described_bookings.one(tx, ctx, booking_id)
    quote_ = await booking_flows.cancellation_quote(tx, ctx, booking_id, now=now_of(request))
    return rendering.page(
        request,
        language,
        "cancel.html",
        found=found,
        booking=found.detail.booking,
        quote=quote_,
        back=payment_pages.status_path(language, business_id, booking_id),
    )


@router.post("/my/{business_id}/{booking_id}/cancel")
async def cancel(
    request: Request,
    business_id: uuid.UUID,
    booking_id: uuid.UUID,
    tx: SessionDep,
    actor: SignedInDep,
    posted: FormDep,
) -> Response:
    language = language_of(request)
    ctx = await access_business(tx, actor, business_id, require=None)
    version = posted_version(posted)
    await booking_flows.act(tx, ctx, booking_id, Action.CANCEL, expected_version=version, now=now_of(request))
    return see_other(payment_pages.status_path(language, business_id, booking_id) + "?done=cancelled")
