"""A seat in a class (class-mode businesses: a gym's timetable): the session's summary with
its price, what is paid up front and the questions, then a seat, or, when the session is
full, a place in its waitlist (the worker gives a freed seat to the first in line, and the
booking then shows in the customer's bookings)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from booklnk.booking.classes import enrolment, sessions
from booklnk.catalog import service as catalog
from booklnk.flows import bookings as booking_flows
from booklnk.tenancy.service import access_business
from booklnk.tenancy.visitors import visit_business
from booklnk.web import payment_pages, presenting, rendering
from booklnk.web.guard import (
    FormDep,
    SessionDep,
    SignedInDep,
    WebRoute,
    client_limited,
    language_of,
    now_of,
    see_other,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Slug = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]


@router.get("/b/{slug}/c/{session_id}")
async def seat_page(
    request: Request, slug: Slug, session_id: uuid.UUID, tx: SessionDep, actor: SignedInDep
) -> Response:
    language = language_of(request)
    visit = await visit_business(tx, slug)
    ctx = await access_business(tx, actor, visit.business.id, require=None)
    view = await sessions.get_session(tx, ctx, session_id)
    service = await catalog.get_service(tx, ctx, view.session.service_id)
    rules = ctx.rules_for(service.service.payment_overrides)
    staff, _ = await catalog.list_staff(tx, ctx, catalog.Listing(cursor=None, limit=100))
    names = {s.id: s.display_name for s in staff}
    return rendering.page(
        request,
        language,
        "seat.html",
        business=visit.business,
        ctx=ctx,
        view=view,
        service=service.service,
        instructor=names.get(view.session.staff_id, ""),
        full=view.seats_left == 0 or (view.waiting > 0 and view.seats_left <= view.waiting),
        upfront=rules.upfront_minor(service.service.price_minor),
        methods=list(rules.payment_methods) if rules.requires_payment_to_confirm else [],
        hold=presenting.duration(rules.checkout_hold_minutes, language),
        cancellation=presenting.cancellation_rule(rules, language),
        questions=presenting.questions(rules.booking_fields, language),
        back=f"/{language}/b/{slug}/s/{service.service.id}",
    )


@router.post("/b/{slug}/c/{session_id}")
async def take_seat(
    request: Request, slug: Slug, session_id: uuid.UUID, tx: SessionDep, actor: SignedInDep, posted: FormDep
) -> Response:
    language, now = language_of(request), now_of(request)
    client_limited(request, "bookings")
    visit = await visit_business(tx, slug)
    ctx = await access_business(tx, actor, visit.business.id, require=None)
    view = await sessions.get_session(tx, ctx, session_id)
    service = await catalog.get_service(tx, ctx, view.session.service_id)
    rules = ctx.rules_for(service.service.payment_overrides)
    method = posted.get("method") if rules.requires_payment_to_confirm else None
    request_ = enrolment.SeatRequest(
        payment_method=method, extra_fields=presenting.answers(rules.booking_fields, posted)
    )
    if posted.get("action") == "waitlist":
        _entry, place = await enrolment.join_waitlist(tx, ctx, session_id, request_, now=now)
        return rendering.page(
            request,
            language,
            "waitlisted.html",
            business=visit.business,
            ctx=ctx,
            view=view,
            service=service.service,
            place=place,
        )
    detail = await booking_flows.take_seat(tx, ctx, session_id, request_, now=now)
    booking = detail.booking
    if method is None or booking.deposit_minor == 0:
        return see_other(payment_pages.status_path(language, ctx.business_id, booking.id))
    return see_other(await payment_pages.checkout_url(request, tx, ctx, booking.id, method, language))
