"""Booking lists (a business's, and a customer's own), iCalendar exports and the private
per-staff calendar feeds."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.api.created import CreatedDep
from booklnk.api.deps import (
    ActorDep,
    DatabaseDep,
    MemberOrCustomerCtx,
    NowDep,
    SessionDep,
    SettingsDep,
    StaffCtx,
)
from booklnk.api.pagination import PAGED, CursorQuery, LimitQuery, Page
from booklnk.api.problems import problem_responses
from booklnk.api.redaction import CALENDAR_FEEDS
from booklnk.api.representations import listed_booking_out
from booklnk.booking import listing
from booklnk.booking.models import BookingStatus
from booklnk.booking.schemas import BookingListItemOut, CalendarFeedOut
from booklnk.catalog.schemas import Instant
from booklnk.flows import bookings as flows
from booklnk.notifications.schemas import MessageOut

router = APIRouter()
BUSINESS = "/v1/businesses/{business_id}"


class CalendarResponse(Response):
    media_type = "text/calendar"


def _calendar_doc(description: str, *error_statuses: int) -> dict[int | str, dict[str, Any]]:
    """A text/calendar success; errors as problem+json only (with a `model`, FastAPI
    would also list them under the route's own media type, text/calendar)."""
    problems = {
        code: {key: value for key, value in doc.items() if key != "model"}
        for code, doc in problem_responses(*error_statuses).items()
    }
    calendar = {"text/calendar": {"schema": {"type": "string"}}}
    return {200: {"description": description, "content": calendar}, **problems}


@router.get(
    f"{BUSINESS}/bookings/{{booking_id}}/messages",
    tags=["bookings"],
    summary="What the booking's customer was sent",
    description="Staff and owners: each message about the booking (confirmed, moved, cancelled, the "
    "reminders), oldest first, with its status (`pending` until the provider takes it, `sent`, `failed`, "
    "`expired` when it was no longer worth sending) and every attempt with the provider's answer. A "
    "booking of a guest without an account has none. 404 `booking_not_found` for a booking not of this "
    f"business. {PAGED}",
    response_model=Page[MessageOut],
    responses=problem_responses(401, 403, 404, 422),
)
async def booking_messages(
    booking_id: uuid.UUID,
    ctx: StaffCtx,
    session: SessionDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[MessageOut]:
    items, next_cursor = await flows.messages_of(session, ctx, booking_id, cursor=cursor, limit=limit)
    return Page[MessageOut](items=items, next_cursor=next_cursor)


FromQuery = Annotated[
    Instant | None, Query(alias="from", description="Bookings starting at or after this instant.")
]
ToQuery = Annotated[Instant | None, Query(description="Bookings starting before this instant.")]
StatusQuery = Annotated[
    list[BookingStatus] | None, Query(alias="status", description="Repeat to allow several statuses.")
]
StaffId = Annotated[uuid.UUID, Path(description="A staff member of this business.")]


async def _own_filter(
    from_: FromQuery = None, to: ToQuery = None, statuses: StatusQuery = None
) -> listing.BookingFilter:
    return listing.BookingFilter(starts_from=from_, starts_before=to, statuses=frozenset(statuses or ()))


async def _business_filter(
    own: Annotated[listing.BookingFilter, Depends(_own_filter)],
    staff_id: Annotated[uuid.UUID | None, Query(description="Only this staff member's bookings.")] = None,
    customer_id: Annotated[uuid.UUID | None, Query(description="Only this account's bookings.")] = None,
    customer_record_id: Annotated[
        uuid.UUID | None,
        Query(
            description="Only the bookings of this customer record (its visit history): booked by it or by "
            "its account."
        ),
    ] = None,
) -> listing.BookingFilter:
    return replace(own, staff_id=staff_id, customer_id=customer_id, customer_record_id=customer_record_id)


async def _page_out(
    session: AsyncSession, page: listing.BookingPage, time_zones: Mapping[uuid.UUID, str]
) -> Page[BookingListItemOut]:
    details = await flows.page_details(session, page)
    items = [
        listed_booking_out(detail, time_zones[detail.booking.business_id], page.customers[detail.booking.id])
        for detail in details
    ]
    return Page(items=items, next_cursor=page.next_cursor)


@router.get(
    f"{BUSINESS}/bookings",
    summary="List the business's bookings (staff and owners)",
    tags=["bookings"],
    description="Ordered by start, then id. Staff see every booking of the business, not only their own "
    "(they run the front desk). `from`/`to` select bookings starting in [from, to). Each item names its "
    "`customer`: the name and proven phone (or a guest's name), read with the page.",
    response_model=Page[BookingListItemOut],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_business_bookings(
    ctx: StaffCtx,
    session: SessionDep,
    filters: Annotated[listing.BookingFilter, Depends(_business_filter)],
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[BookingListItemOut]:
    page = await listing.list_business_bookings(session, ctx, filters, cursor=cursor, limit=limit)
    return await _page_out(session, page, {ctx.business_id: ctx.time_zone})


@router.get(
    "/v1/me/bookings",
    summary="List my own bookings in every business",
    tags=["bookings"],
    description="Ordered by start, then id; each item names its `business_id`, and its `customer`: you.",
    response_model=Page[BookingListItemOut],
    responses=problem_responses(401, 422),
)
async def list_my_bookings(
    actor: ActorDep,
    session: SessionDep,
    filters: Annotated[listing.BookingFilter, Depends(_own_filter)],
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[BookingListItemOut]:
    page = await listing.list_my_bookings(session, actor, filters, cursor=cursor, limit=limit)
    return await _page_out(session, page, await flows.time_zones(session, page))


@router.get(
    f"{BUSINESS}/bookings/{{booking_id}}/ics",
    summary="A booking as an iCalendar (.ics) file (its customer, or the business's staff)",
    description="Anyone else gets 404 `booking_not_found`. Sent as a download "
    "(`Content-Disposition: attachment`); the event is titled with the service and the business and names "
    "the staff member.",
    tags=["bookings"],
    response_class=CalendarResponse,
    responses=_calendar_doc("A VCALENDAR with one VEVENT.", 401, 404),
)
async def export_booking(
    booking_id: uuid.UUID, ctx: MemberOrCustomerCtx, session: SessionDep, now: NowDep
) -> CalendarResponse:
    body = await listing.booking_calendar(session, ctx, booking_id, now=now)
    disposition = f'attachment; filename="booking-{booking_id}.ics"'
    return CalendarResponse(body, headers={"Content-Disposition": disposition})


@router.post(
    f"{BUSINESS}/staff/{{staff_id}}/calendar-feed",
    summary="Create or rotate a staff member's private calendar feed (owners, or that staff member)",
    description="Returns the feed URL once; a previous URL stops working at once. 404 `staff_not_found`.",
    tags=["calendar feeds"],
    status_code=status.HTTP_201_CREATED,
    response_model=CalendarFeedOut,
    responses=problem_responses(401, 403, 404),
)
async def issue_calendar_feed(
    staff_id: StaffId,
    ctx: StaffCtx,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    created: CreatedDep,
) -> CalendarFeedOut:
    token = await listing.issue_calendar_feed(session, ctx, staff_id, now=now)
    feed = CalendarFeedOut(url=f"{settings.public_base_url.rstrip('/')}{CALENDAR_FEEDS}{token}.ics")
    # Where the feed is managed, not the feed URL: that is a secret, and headers end up in logs.
    created.at(f"/v1/businesses/{ctx.business_id}/staff/{staff_id}/calendar-feed")
    return feed


@router.delete(
    f"{BUSINESS}/staff/{{staff_id}}/calendar-feed",
    summary="Revoke a staff member's private calendar feed (owners, or that staff member)",
    description="Customers and other staff get 403 `insufficient_role`, an unknown staff member 404 "
    "`staff_not_found`. The feed URL stops working at once; with no feed it answers 204 all the same.",
    tags=["calendar feeds"],
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404),
)
async def revoke_calendar_feed(staff_id: StaffId, ctx: StaffCtx, session: SessionDep) -> None:
    await listing.revoke_calendar_feed(session, ctx, staff_id)


async def _anonymous_unit_of_work(db: DatabaseDep) -> AsyncIterator[AsyncSession]:
    """Calendar apps send no credentials, and whatever header one sends is ignored: the
    feed's transaction carries no user, so only its token decides what it reads."""
    async with db.transaction() as session:
        yield session


AnonymousSessionDep = Annotated[AsyncSession, Depends(_anonymous_unit_of_work, scope="function")]


@router.get(
    f"{CALENDAR_FEEDS}{{token}}.ics",
    summary="A staff member's private calendar feed (no sign-in: the URL is the secret)",
    description="Bookings from 30 days back to 90 days ahead that hold the staff member's time. "
    "An unknown, rotated or revoked token answers 404 `calendar_feed_not_found`.",
    tags=["calendar feeds"],
    response_class=CalendarResponse,
    responses=_calendar_doc("A VCALENDAR with one VEVENT per booking.", 404),
)
async def calendar_feed(
    token: Annotated[str, Path(description="The secret from the feed URL.")],
    session: AnonymousSessionDep,
    now: NowDep,
) -> CalendarResponse:
    body = await listing.staff_feed_calendar(session, token, now=now)
    # Secret content behind a secret URL: no shared cache may keep a copy.
    return CalendarResponse(body, headers={"Cache-Control": "private, no-store"})
