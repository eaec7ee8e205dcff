"""The front desk's calendar around the day view: when each staff member or room can be
booked (their schedules expanded by the availability engine's own `expand_schedule`, met
with the business's opening hours exactly as `booking.availability` does), and the week:
seven days from Saturday by staff member, each cell counting that day's bookings and
linking to it. Staff see their own column of the week, as on the day."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking import listing
from booklnk.booking.models import BookingStatus
from booklnk.catalog import service as catalog
from booklnk.catalog.models import StaffMember
from booklnk.flows import described_bookings, working_time
from booklnk.scheduling.intervals import IntervalSet
from booklnk.tenancy.context import Actor, BusinessContext
from booklnk.tenancy.models import Role
from booklnk.tenancy.service import access_business
from booklnk.web import day_plan, presenting, rendering
from booklnk.web.guard import SessionDep, SignedInDep, WebRoute, language_of, now_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)
# A week's bookings are read in one page: far above a small business's busiest week.
WEEK_LIMIT = 2000
# Bookings that no longer take anyone's time are not counted on the week.
GONE = frozenset({BookingStatus.CANCELLED, BookingStatus.EXPIRED})
SHOWN_COLUMNS = 100


async def shown_staff(session: AsyncSession, ctx: BusinessContext, actor: Actor) -> list[StaffMember]:
    """Staff see their own column (owners, everyone's); one not on the rota sees all."""
    staff, _ = await catalog.list_staff(session, ctx, catalog.Listing(cursor=None, limit=SHOWN_COLUMNS))
    if ctx.is_owner:
        return staff
    return [s for s in staff if s.user_id == actor.user_id] or staff


@dataclass(frozen=True, slots=True)
class Column:
    id: uuid.UUID
    name: str


@dataclass(frozen=True, slots=True)
class DayView:
    """The day laid out by staff member or by room, and which bookings the reader sees in
    full (None: all of them); the others show only as booked time, and are never named
    as the next customer."""

    columns: list[Column]
    plan: day_plan.Plan
    in_full: set[uuid.UUID] | None


async def lay_out_day(
    session: AsyncSession,
    ctx: BusinessContext,
    actor: Actor,
    found: Sequence[described_bookings.Described],
    shown: date,
    *,
    by_room: bool,
    now: datetime,
) -> DayView:
    """By staff: their columns (staff see their own). By room: every room and chair, each
    booking under every resource it holds; staff see all rooms, to know which is free,
    but the customer and service only of their own bookings, as on their own column."""
    zone = ZoneInfo(ctx.time_zone)
    staff = await shown_staff(session, ctx, actor)
    if by_room:
        rooms, _ = await catalog.list_resources(
            session, ctx, catalog.Listing(cursor=None, limit=SHOWN_COLUMNS)
        )
        columns = [Column(r.id, r.name) for r in rooms]
        items = [
            day_plan.Item(
                d.detail.booking.id, resource_id, d.detail.booking.starts_at, d.detail.booking.ends_at
            )
            for d in found
            for resource_id in d.detail.view.resource_ids
        ]
        hours = await working_time.hours_of(
            session, ctx, resource_ids=[c.id for c in columns], first=shown, last=shown
        )
    else:
        columns = [Column(s.id, s.display_name) for s in staff]
        items = [
            day_plan.Item(b.id, b.staff_id, b.starts_at, b.ends_at) for b in (d.detail.booking for d in found)
        ]
        hours = await working_time.hours_of(
            session, ctx, staff_ids=[c.id for c in columns], first=shown, last=shown
        )
    own = {s.id for s in staff if s.user_id == actor.user_id}
    mine = {d.detail.booking.id for d in found if d.detail.booking.staff_id in own}
    in_full = None if ctx.is_owner or not own else mine
    span = working_time.day_span(shown, zone)
    shaded = [shade for key, own_hours in hours.items() for shade in day_plan.shades(key, span, own_hours)]
    # The shown hours widen to everyone's open time, except a column open round the clock
    # (a room when the business set no hours): that says nothing about the working day.
    working = [i for own_hours in hours.values() for i in own_hours.open.clip(span) if i != span]
    midnight = presenting.local_midnight(shown, zone)
    laid = day_plan.plan(midnight, [c.id for c in columns], items, now=now, shaded=shaded, working=working)
    return DayView(columns, laid, in_full)


@dataclass(frozen=True, slots=True)
class Cell:
    """One staff member's day on the week: their bookings, and why they take none if so."""

    count: int
    first: datetime | None
    last: datetime | None
    note: day_plan.ShadeKind | None


def week_cells(
    days: Sequence[date],
    zone: ZoneInfo,
    items: Sequence[day_plan.Item],
    hours: Mapping[uuid.UUID, working_time.Hours],
) -> dict[tuple[date, uuid.UUID], Cell]:
    """Per (day, column): the bookings starting that local day, their first start and
    last end, and, when the column has no open time that day, the reason (pure)."""
    cells = {}
    for day in days:
        span = working_time.day_span(day, zone)
        today = IntervalSet([span])
        for key, own in hours.items():
            mine = [i for i in items if i.column_key == key and span.start <= i.starts_at < span.end]
            note: day_plan.ShadeKind | None = None
            if not own.open.intersection(today):
                note = (
                    "time_off"
                    if own.time_off.intersection(today)
                    else "closed"
                    if not own.opening.intersection(today)
                    else "off"
                )
            cells[(day, key)] = Cell(
                len(mine),
                min((i.starts_at for i in mine), default=None),
                max((i.ends_at for i in mine), default=None),
                note,
            )
    return cells


def week_start(day: date) -> date:
    """The Saturday on or before `day` (Egypt's week, see presenting.WEEK_FROM_SATURDAY)."""
    return day - timedelta(days=presenting.WEEK_FROM_SATURDAY.index(day.weekday()))


@router.get("/desk/{business_id}/week")
async def week(
    request: Request,
    business_id: uuid.UUID,
    tx: SessionDep,
    actor: SignedInDep,
    start: Annotated[date | None, Query(alias="from")] = None,
) -> Response:
    language, now = language_of(request), now_of(request)
    ctx = await access_business(tx, actor, business_id, require=Role.STAFF)
    zone = ZoneInfo(ctx.time_zone)
    first = week_start(start or now.astimezone(zone).date())
    days = [first + timedelta(days=n) for n in range(7)]
    staff = await shown_staff(tx, ctx, actor)
    window = listing.BookingFilter(
        starts_from=working_time.day_span(first, zone).start,
        starts_before=working_time.day_span(days[-1], zone).end,
    )
    page = await listing.list_business_bookings(tx, ctx, window, cursor=None, limit=WEEK_LIMIT)
    items = [
        day_plan.Item(b.id, b.staff_id, b.starts_at, b.ends_at) for b in page.bookings if b.status not in GONE
    ]
    hours = await working_time.hours_of(tx, ctx, staff_ids=[s.id for s in staff], first=first, last=days[-1])
    base = f"/{language}/desk/{business_id}"
    return rendering.page(
        request,
        language,
        "desk_week.html",
        ctx=ctx,
        staff=staff,
        days=[(day, presenting.long_date(day, language)) for day in days],
        cells=week_cells(days, zone, items, hours),
        today=now.astimezone(zone).date(),
        first_day=presenting.long_date(first, language),
        previous=(first - timedelta(days=7)).isoformat(),
        following=(first + timedelta(days=7)).isoformat(),
        base=base,
    )
