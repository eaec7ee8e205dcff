"""The customer's path through a business's booking page: the business (services, team,
hours, next free times) → a service's times for one day (staff or anyone, the day strip)
→ the booking's summary with its price, deposit and cancellation rule, the intake
questions and how to pay → booked, then to Kashier's page or straight to the status page.

Reads are the public page's (as nobody); booking is the signed-in customer's, through the
same use cases the API calls."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk import idempotency
from booklnk.booking import service as booking_service
from booklnk.catalog import schedules
from booklnk.catalog import service as catalog
from booklnk.catalog.owner import ScheduleOwner
from booklnk.catalog.service import ServiceView
from booklnk.flows import availability
from booklnk.flows import bookings as booking_flows
from booklnk.kernel.errors import NotFound, ValidationFailed
from booklnk.scheduling.calendar import weekly_minute_spans
from booklnk.scheduling.intervals import Interval
from booklnk.tenancy.context import BusinessContext
from booklnk.tenancy.service import access_business
from booklnk.tenancy.visitors import Visit, visit_business
from booklnk.web import payment_pages, presenting, rendering
from booklnk.web.guard import (
    FormDep,
    SessionDep,
    SignedInDep,
    VisitorDep,
    WebRoute,
    client_limited,
    language_of,
    now_of,
    parse_uuid,
    posted_instant,
    see_other,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Slug = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
# Services shown with their next free time on the business page (each is one search).
NEXT_FREE_SERVICES = 8
NEXT_FREE_DAYS = 3


@router.get("/b/{slug}")
async def business_page(request: Request, slug: Slug, tx: SessionDep, _: VisitorDep) -> Response:
    language = language_of(request)
    visit = await visit_business(tx, slug)
    ctx, now = visit.ctx, now_of(request)
    services, _next = await catalog.list_bookable_services(tx, ctx, cursor=None, limit=50)
    staff, _more = await catalog.list_staff(tx, ctx, catalog.Listing(cursor=None, limit=50))
    week = await schedules.get_weekly_schedule(tx, ctx, ScheduleOwner.business())
    # Each day's open periods, its breaks cut out (10:00-14:00 and 15:00-22:00, as booked).
    hours: dict[int, list[str]] = {
        day: [
            f"{presenting.wall_clock(start, language)} \u2013 {presenting.wall_clock(end, language)}"
            for start, end in spans
        ]
        for day, spans in enumerate(weekly_minute_spans(week))
    }
    next_free = {}
    if ctx.rules.mode == "appointment":
        window = Interval(now, now + timedelta(days=NEXT_FREE_DAYS))
        for view in services[:NEXT_FREE_SERVICES]:
            found = await availability.search(
                tx,
                ctx,
                service_id=view.service.id,
                staff_id=None,
                duration_minutes=None,
                window=window,
                now=now,
            )
            if isinstance(found, availability.Slots) and found.slots:
                next_free[view.service.id] = found.slots[0].start
    return rendering.page(
        request,
        language,
        "business.html",
        business=visit.business,
        ctx=ctx,
        services=[_service_card(v, ctx, language) for v in services],
        staff=staff,
        hours=[(presenting.weekday_name(day, language), hours[day]) for day in presenting.WEEK_FROM_SATURDAY],
        next_free=next_free,
        cancellation=presenting.cancellation_rule(ctx.rules, language),
    )


@router.get("/b/{slug}/s/{service_id}")
async def times_page(
    request: Request,
    slug: Slug,
    service_id: uuid.UUID,
    tx: SessionDep,
    _: VisitorDep,
    day: Annotated[date | None, Query()] = None,
    staff: Annotated[str | None, Query(max_length=40)] = None,
    length: Annotated[int | None, Query(ge=1, le=1440)] = None,
    move: Annotated[uuid.UUID | None, Query()] = None,
) -> Response:
    language = language_of(request)
    visit = await visit_business(tx, slug)
    ctx, now = visit.ctx, now_of(request)
    view = await _bookable(tx, ctx, service_id)
    zone = ZoneInfo(ctx.time_zone)
    # Moving a booking: the times lead to its move's confirmation instead of a new booking.
    target = f"/{language}/my/{ctx.business_id}/{move}/move" if move else None
    today = now.astimezone(zone).date()
    strip = presenting.day_strip(today, language, min(presenting.STRIP_DAYS, ctx.rules.horizon_days + 1))
    chosen_day = day if day is not None and strip[0].day <= day <= strip[-1].day else today
    staff_id = parse_uuid(staff)
    if staff_id is not None and staff_id not in view.staff_ids:
        staff_id = None
    # Without a day asked for: the first day of the strip with a free time (one search).
    first_day = chosen_day if day is not None else strip[0].day
    last_day = chosen_day if day is not None else strip[-1].day
    window = Interval(
        max(presenting.local_midnight(first_day, zone), now),
        max(presenting.local_midnight(last_day + timedelta(days=1), zone), now + timedelta(minutes=1)),
    )
    found = await availability.search(
        tx, ctx, service_id=service_id, staff_id=staff_id, duration_minutes=length, window=window, now=now
    )
    if isinstance(found, availability.Slots) and day is None and found.slots:
        chosen_day = found.slots[0].start.astimezone(zone).date()
    if isinstance(found, availability.Sessions) and day is None and found.sessions:
        chosen_day = found.sessions[0].session.starts_at.astimezone(zone).date()
    members, _more = await catalog.list_staff(tx, ctx, catalog.Listing(cursor=None, limit=50))
    names = {m.id: m.display_name for m in members}
    base = f"/{language}/b/{slug}/s/{service_id}"

    def link(**changes: object) -> str:
        query = {
            "day": chosen_day.isoformat(),
            "staff": str(staff_id or ""),
            "length": length or "",
            "move": str(move or ""),
        }
        query.update({k: str(v) for k, v in changes.items()})
        return f"{base}?{urlencode({k: v for k, v in query.items() if v})}"

    slots = []
    if isinstance(found, availability.Slots):
        for slot in found.slots:
            if slot.start.astimezone(zone).date() != chosen_day:
                continue
            query = {"start": slot.start.isoformat(), "staff": str(staff_id or ""), "length": length or ""}
            slots.append(
                (slot.start, f"{target or base + '/book'}?{urlencode({k: v for k, v in query.items() if v})}")
            )
    return rendering.page(
        request,
        language,
        "times.html",
        business=visit.business,
        ctx=ctx,
        service=_service_card(view, ctx, language),
        staff_choices=[(sid, names[sid]) for sid in view.staff_ids if sid in names],
        staff_id=staff_id,
        strip=strip,
        chosen_day=chosen_day,
        long_day=presenting.long_date(chosen_day, language),
        slots=slots,
        lengths=list(view.service.duration_options_minutes),
        length=length,
        link=link,
        sessions=[v for v in found.sessions if v.session.starts_at.astimezone(zone).date() == chosen_day]
        if isinstance(found, availability.Sessions)
        else None,
        instructors=names,
    )


@router.get("/b/{slug}/s/{service_id}/book")
async def booking_summary(
    request: Request,
    slug: Slug,
    service_id: uuid.UUID,
    tx: SessionDep,
    actor: SignedInDep,
    start: Annotated[datetime, Query()],
    staff: Annotated[str | None, Query(max_length=40)] = None,
    length: Annotated[int | None, Query(ge=1, le=1440)] = None,
) -> Response:
    language = language_of(request)
    visit = await visit_business(tx, slug)
    return await _summary(request, tx, visit, service_id, start, parse_uuid(staff), length, language)


@router.post("/b/{slug}/s/{service_id}/book")
async def book(
    request: Request,
    slug: Slug,
    service_id: uuid.UUID,
    tx: SessionDep,
    actor: SignedInDep,
    posted: FormDep,
) -> Response:
    language, now = language_of(request), now_of(request)
    client_limited(request, "bookings")
    visit = await visit_business(tx, slug)
    ctx = await access_business(tx, actor, visit.business.id, require=None)
    start = posted_instant(posted)
    staff_id = parse_uuid(posted.get("staff"))
    length = int(posted["length"]) if posted.get("length", "").isdigit() else None
    view = await _bookable(tx, ctx, service_id)
    rules = ctx.rules_for(view.service.payment_overrides)
    method = posted.get("method") if rules.requires_payment_to_confirm else None
    new = booking_service.NewBooking(
        service_id=service_id,
        starts_at=start,
        staff_id=staff_id,
        duration_minutes=length,
        payment_method=method,
        extra_fields=presenting.answers(rules.booking_fields, posted),
    )
    # Two taps on the button (or a retry after a lost answer) make one booking: the form's
    # own key, kept for a day, as an Idempotency-Key is.
    scope = idempotency.Scope(ctx.business_id, actor.user_id, f"web:{posted.get('attempt', '')[:64]}")
    fingerprint = idempotency.fingerprint("POST", request.url.path, sorted(posted.items()))
    stored = await idempotency.claim(tx, scope, fingerprint, now=now)
    if stored is not None:
        return see_other(str(stored.body["next"]))
    try:
        detail = await booking_flows.create(tx, ctx, new, now=now)
    except ValidationFailed as refused:
        if not any(i.field.startswith("body.extra_fields") for i in refused.issues):
            raise
        return await _summary(
            request, tx, visit, service_id, start, staff_id, length, language, posted=posted, refused=refused
        )
    booking = detail.booking
    status_page = f"/{language}/my/{ctx.business_id}/{booking.id}"
    await idempotency.record(
        tx, scope, fingerprint, idempotency.StoredResponse(303, {"next": status_page}), now=now
    )
    if method is None or booking.deposit_minor == 0:
        return see_other(status_page)
    return see_other(await payment_pages.checkout_url(request, tx, ctx, booking.id, method, language))


async def _summary(
    request: Request,
    tx: AsyncSession,
    visit: Visit,
    service_id: uuid.UUID,
    start: datetime,
    staff_id: uuid.UUID | None,
    length: int | None,
    language: str,
    *,
    posted: dict[str, str] | None = None,
    refused: ValidationFailed | None = None,
) -> Response:
    ctx = visit.ctx
    view = await _bookable(tx, ctx, service_id)
    rules = ctx.rules_for(view.service.payment_overrides)
    members, _more = await catalog.list_staff(tx, ctx, catalog.Listing(cursor=None, limit=50))
    names = {m.id: m.display_name for m in members}
    minutes = length or view.service.duration_options_minutes[0]
    errors = {}
    for issue in refused.issues if refused else []:
        errors[issue.field.removeprefix("body.extra_fields").strip(".") or "_"] = issue.message
    return rendering.page(
        request,
        language,
        "summary.html",
        status_code=422 if refused else 200,
        business=visit.business,
        ctx=ctx,
        service=_service_card(view, ctx, language),
        start=start,
        staff_name=names.get(staff_id) if staff_id else None,
        staff_id=staff_id,
        length=length,
        minutes=presenting.duration(minutes, language),
        upfront=rules.upfront_minor(view.service.price_minor),
        methods=list(rules.payment_methods) if rules.requires_payment_to_confirm else [],
        hold=presenting.duration(rules.checkout_hold_minutes, language),
        cancellation=presenting.cancellation_rule(rules, language),
        questions=presenting.questions(rules.booking_fields, language),
        posted=posted or {},
        errors=errors,
        attempt=(posted or {}).get("attempt") or uuid.uuid4().hex,
        back=f"/{language}/b/{visit.business.slug}/s/{service_id}",
    )


async def _bookable(tx: AsyncSession, ctx: BusinessContext, service_id: uuid.UUID) -> ServiceView:
    services, _next = await catalog.list_bookable_services(tx, ctx, cursor=None, limit=50)
    for view in services:
        if view.service.id == service_id:
            return view
    raise NotFound("No such service.", code="service_not_found")


def _service_card(view: ServiceView, ctx: BusinessContext, language: str) -> dict[str, Any]:
    service = view.service
    rules = ctx.rules_for(service.payment_overrides)
    return {
        "id": service.id,
        "name": service.name,
        "description": service.description,
        "price_minor": service.price_minor,
        "currency": service.currency,
        "durations": [presenting.duration(m, language) for m in service.duration_options_minutes],
        "upfront_minor": rules.upfront_minor(service.price_minor),
        "pay_at_venue": not rules.requires_payment_to_confirm,
    }
