"""A business's public booking page, for anyone: no account, no token.

Found by its slug (the short link an owner shares). Every route here is rate-limited per
client address, together: `BOOKLNK_PUBLIC_READS_PER_MINUTE` (60) requests a minute, in
bursts of as many, then 429 `too_many_requests` with `Retry-After`. A token, if sent, is
ignored: these answers are the same for everyone. Nothing here shows customer data.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.api.deps import DatabaseDep, NowDep, client_address
from booklnk.api.pagination import PAGED, CursorQuery, LimitQuery, Page
from booklnk.api.problems import problem_responses
from booklnk.api.public_schemas import (
    DateHoursOut,
    OpeningHoursOut,
    PublicAvailability,
    PublicAvailabilityOut,
    PublicBusinessOut,
    PublicClassAvailabilityOut,
    PublicServiceOut,
    PublicSessionOut,
    PublicSlotOut,
    PublicStaffOut,
    WeeklyHoursOut,
)
from booklnk.api.rate_limit import RateLimiter
from booklnk.api.search_window import search_window
from booklnk.booking.classes import sessions as class_sessions
from booklnk.catalog import schedules
from booklnk.catalog import service as catalog
from booklnk.catalog.owner import ScheduleOwner
from booklnk.catalog.schemas import CalendarDate, Instant, WeekdayInterval
from booklnk.flows import availability
from booklnk.kernel.errors import TooManyRequests, ValidationFailed
from booklnk.tenancy.visitors import Visit, visit_business

PUBLIC_PREFIX = "/v1/public/businesses/{slug}"
# Opening hours: the dates listed by default, and at most (the availability search's bound).
DEFAULT_HOURS_DAYS = 30
MAX_HOURS_DAYS = 62


async def rate_limited(request: Request) -> None:
    """One request of this client address against the public reads' shared limit."""
    limiter: RateLimiter = request.app.state.public_reads
    decision = limiter.take(client_address(request))
    if not decision.allowed:
        raise TooManyRequests(
            "Too many requests from this address; try again later.",
            retry_after_seconds=decision.retry_after_seconds,
        )


router = APIRouter(
    prefix=PUBLIC_PREFIX,
    tags=["public"],
    # Before anything else: a refused request opens no transaction.
    dependencies=[Depends(rate_limited)],
)
PUBLIC: dict[str, object] = {"security": []}
READ = problem_responses(404, 422, 429)


async def visitor_transaction(db: DatabaseDep) -> AsyncIterator[AsyncSession]:
    """The request's one transaction, as nobody (no `app.user_id`): only rows that are
    public, or of the tenant the slug enters, are visible to it."""
    async with db.transaction() as session:
        yield session


VisitorSession = Annotated[AsyncSession, Depends(visitor_transaction, scope="function")]
SlugPath = Annotated[
    str,
    Path(
        pattern=r"^[a-z0-9][a-z0-9-]{1,62}$",
        description="The business's slug, as in its short link.",
        examples=["cairo-cuts"],
    ),
]


async def visit(slug: SlugPath, session: VisitorSession) -> Visit:
    return await visit_business(session, slug)


VisitDep = Annotated[Visit, Depends(visit)]


@router.get(
    "",
    summary="A business's public profile and the policies a customer sees before booking",
    description="Name, type, time zone and currency; the payment policy (what is paid online to "
    "confirm, which methods, how long a held booking waits for its payment), the cancellation rule "
    "(free until how long before the start, and what a late cancellation gives back), the booking "
    "window (grid, minimum notice, horizon) and the questions a booking asks. The `id` is the one the "
    "booking routes take. Unknown slug: 404 `business_not_found`.",
    operation_id="public_business_get",
    response_model=PublicBusinessOut,
    responses=READ,
    openapi_extra=PUBLIC,
)
async def get_business(found: VisitDep) -> PublicBusinessOut:
    return PublicBusinessOut.of(found.business, found.ctx)


@router.get(
    "/services",
    summary="A business's bookable services, with prices, durations and what is paid up front",
    description="Active services only, by name, each with the staff who perform it (active ones) and its "
    "own payment rules (a service may ask for a deposit where the business does not).",
    operation_id="public_services_list",
    response_model=Page[PublicServiceOut],
    responses=READ,
    openapi_extra=PUBLIC,
)
async def list_services(
    found: VisitDep, session: VisitorSession, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> Page[PublicServiceOut]:
    views, next_cursor = await catalog.list_bookable_services(session, found.ctx, cursor=cursor, limit=limit)
    return Page(items=[PublicServiceOut.of(v, found.ctx) for v in views], next_cursor=next_cursor)


@router.get(
    "/staff",
    summary="A business's staff (public fields only: id and display name)",
    description="Active staff members, by display name.",
    operation_id="public_staff_list",
    response_model=Page[PublicStaffOut],
    responses=READ,
    openapi_extra=PUBLIC,
)
async def list_staff(
    found: VisitDep, session: VisitorSession, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> Page[PublicStaffOut]:
    listing = catalog.Listing(cursor=cursor, limit=limit)
    rows, next_cursor = await catalog.list_staff(session, found.ctx, listing)
    items = [PublicStaffOut(id=s.id, display_name=s.display_name) for s in rows]
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/opening-hours",
    summary="A business's opening hours: the usual week and the dates that differ",
    description="Local wall-clock times in the business's zone. `dates` lists the dates in [`from`, `to`] "
    f"whose hours differ (closed, or other hours); by default the next {DEFAULT_HOURS_DAYS} days from "
    f"today (local), at most {MAX_HOURS_DAYS} days at a time.",
    operation_id="public_opening_hours_get",
    response_model=OpeningHoursOut,
    responses=READ,
    openapi_extra=PUBLIC,
)
async def opening_hours(
    found: VisitDep,
    session: VisitorSession,
    now: NowDep,
    from_: Annotated[
        CalendarDate | None, Query(alias="from", description="First date; default today.")
    ] = None,
    to: Annotated[CalendarDate | None, Query(description="Last date; default 30 days after `from`.")] = None,
) -> OpeningHoursOut:
    first, last = _dates(from_, to, today=now.astimezone(ZoneInfo(found.ctx.time_zone)).date())
    owner = ScheduleOwner.business()
    week = await schedules.get_weekly_schedule(session, found.ctx, owner)
    # One override per date at most, so a page of the window's length holds them all.
    dates, _ = await schedules.list_overrides(
        session, found.ctx, owner, between=(first, last), cursor=None, limit=MAX_HOURS_DAYS + 1
    )
    return OpeningHoursOut(
        time_zone=found.ctx.time_zone,
        weekly=WeeklyHoursOut(
            hours=[WeekdayInterval.of_weekly(h) for h in week.hours],
            breaks=[WeekdayInterval.of_weekly(b) for b in week.breaks],
        ),
        from_=first,
        to=last,
        dates=[DateHoursOut.of(d) for d in dates],
    )


def _dates(first: date | None, last: date | None, *, today: date) -> tuple[date, date]:
    first = first or today
    last = last or first + timedelta(days=DEFAULT_HOURS_DAYS)
    if last < first or (last - first).days > MAX_HOURS_DAYS:
        raise ValidationFailed.on(
            "query.to", "valid_window", f"Give `from` <= `to`, at most {MAX_HOURS_DAYS} days apart."
        )
    return first, last


@router.get(
    "/availability",
    summary="Bookable start times for a service (or, in a class business, its bookable sessions)",
    description="The same engine, parameters and bounds as the signed-in search (`from` < `to` with UTC "
    "offsets, at most 62 days; hours, breaks, time off, bookings, holds, buffers, grid, notice, horizon "
    "and required resources all honoured). Omit `staff_id` for anyone qualified. In a class business: the "
    "service's sessions a seat could be taken in now, with seats left (full ones too). Booking itself "
    "needs an account.",
    operation_id="public_availability_search",
    response_model=PublicAvailability,
    responses=READ,
    openapi_extra=PUBLIC,
)
async def search_availability(
    found: VisitDep,
    session: VisitorSession,
    now: NowDep,
    service_id: uuid.UUID,
    from_: Annotated[datetime, Query(alias="from", description="Window start, with offset.")],
    to: Annotated[datetime, Query(description="Window end, with offset (at most 62 days later).")],
    staff_id: uuid.UUID | None = None,
    duration: Annotated[int | None, Query(ge=1, le=1440)] = None,
) -> PublicAvailabilityOut | PublicClassAvailabilityOut:
    ctx = found.ctx
    result = await availability.search(
        session,
        ctx,
        service_id=service_id,
        staff_id=staff_id,
        duration_minutes=duration,
        window=search_window(from_, to),
        now=now,
    )
    zone = ZoneInfo(ctx.time_zone)
    if isinstance(result, availability.Sessions):
        sessions = [PublicSessionOut.of(v, zone) for v in result.sessions]
        return PublicClassAvailabilityOut(
            mode="class", time_zone=ctx.time_zone, service_id=service_id, sessions=sessions
        )
    return PublicAvailabilityOut(
        mode="appointment",
        time_zone=ctx.time_zone,
        service_id=service_id,
        duration_minutes=result.offer.request.duration_minutes,
        slots=[PublicSlotOut.of(slot, zone) for slot in result.slots],
    )


@router.get(
    "/class-sessions",
    summary="A class business's bookable sessions in a window, with seats left",
    description="Sessions a seat could be taken in now (the booking rules: grid, minimum notice, horizon), "
    "full ones included (`seats_left: 0`; signed-in customers may join the waitlist); never cancelled "
    "ones, never who holds a seat. `from` < `to` with UTC offsets, at most 62 days apart. An "
    "appointment business answers 422 `class_mode_only`. By start; " + PAGED,
    operation_id="public_class_sessions_list",
    response_model=Page[PublicSessionOut],
    responses=READ,
    openapi_extra=PUBLIC,
)
async def list_class_sessions(
    found: VisitDep,
    session: VisitorSession,
    now: NowDep,
    from_: Annotated[Instant, Query(alias="from", description="Window start, with offset.")],
    to: Annotated[Instant, Query(description="Window end, with offset (at most 62 days later).")],
    service_id: uuid.UUID | None = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[PublicSessionOut]:
    ctx = found.ctx
    class_sessions.class_rules(ctx, "path.slug")
    listed = await class_sessions.list_sessions(
        session, ctx, start=from_, end=to, service_id=service_id, bookable_at=now, cursor=cursor, limit=limit
    )
    zone = ZoneInfo(ctx.time_zone)
    return Page(items=[PublicSessionOut.of(v, zone) for v in listed.views], next_cursor=listed.next_cursor)
