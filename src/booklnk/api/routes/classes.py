"""Class mode: series and sessions (owners publish and edit), seats and waitlists."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.responses import JSONResponse

from booklnk.api.created import CreatedDep
from booklnk.api.deps import MemberOrCustomerCtx, NowDep, OwnerCtx, SessionDep, StaffCtx
from booklnk.api.idempotent import IdempotencyKeyHeader, create_once
from booklnk.api.pagination import PAGED, CursorQuery, LimitQuery, Page
from booklnk.api.problems import problem_responses
from booklnk.api.representations import booking_out, parse_if_match, session_out
from booklnk.booking.classes import enrolment
from booklnk.booking.classes import series as class_series
from booklnk.booking.classes import sessions as class_sessions
from booklnk.booking.classes.models import ClassSeries
from booklnk.booking.classes.schemas import (
    SeatCreate,
    SeriesChange,
    SeriesCreate,
    SeriesCreated,
    SeriesOut,
    SessionChange,
    SessionOut,
    WaitlistEntryOut,
    WaitlistJoined,
)
from booklnk.booking.schemas import BookingOut
from booklnk.catalog.schemas import Instant
from booklnk.flows import bookings as booking_flows
from booklnk.flows import classes as class_flows
from booklnk.kernel.errors import ValidationFailed
from booklnk.tenancy.context import BusinessContext

router = APIRouter(prefix="/v1/businesses/{business_id}", tags=["classes"])
IfMatchHeader = Annotated[str | None, Header(description="The session's ETag; 412 if it changed.")]
SeriesIfMatchHeader = Annotated[
    str | None, Header(description="The series' ETag (its `version`); 412 if it changed.")
]


def _with_etag(view: class_sessions.SessionView, ctx: BusinessContext, response: Response) -> SessionOut:
    response.headers["ETag"] = f'"{view.session.version}"'
    return session_out(view, ctx)


def _series_with_etag(series: ClassSeries, response: Response) -> SeriesOut:
    response.headers["ETag"] = f'"{series.version}"'
    return SeriesOut.model_validate(series)


@router.post(
    "/class-series",
    summary="Publish a recurring class (owner)",
    description="Sessions are created for every occurrence from now up to the booking horizon; a daily job "
    "extends open-ended series. Each session takes its instructor and the rooms its service requires: an "
    "instructor or a room taken at an overlapping time (by another class or an appointment) answers 409 "
    "`instructor_busy` / `resource_busy`, naming it. A start off the slot grid answers 422 `off_grid`, one "
    "outside the business's opening hours 422 `outside_hours`; 404 `service_not_found`, "
    "`staff_not_found`, `resource_not_found` for an unknown id.",
    status_code=status.HTTP_201_CREATED,
    response_model=SeriesCreated,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def publish_series(
    body: SeriesCreate, ctx: OwnerCtx, session: SessionDep, now: NowDep, created: CreatedDep
) -> SeriesCreated:
    spec = class_series.SeriesSpec(**body.model_dump())
    published, occurrences = await class_series.publish_series(session, ctx, spec, now=now)
    created.at_key(published.id)
    rooms = tuple(published.resource_ids)
    return SeriesCreated(
        series=SeriesOut.model_validate(published),
        sessions=[session_out(class_sessions.SessionView(s, 0, rooms), ctx) for s in occurrences],
    )


@router.patch(
    "/class-series/{series_id}",
    summary="Change a series' instructor, capacity or start time (owner)",
    description="Applies to its future sessions that were not edited alone; a new start time moves them "
    "(on their own dates, with their bookings) and follows the rules of publishing (slot grid, opening "
    "hours). A capacity below the seats already taken in any of them answers 422. `If-Match` honoured "
    "(the series' `version`). A new start off the grid or outside opening hours answers 422 `off_grid` / "
    "`outside_hours`; 404 `series_not_found`; 409 `session_closed` once the series is cancelled, "
    "`instructor_busy` / `resource_busy` when a moved session meets a taken instructor or room, "
    "`concurrent_update` when it changed meanwhile.",
    response_model=SeriesOut,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
async def edit_series(
    series_id: uuid.UUID,
    body: SeriesChange,
    ctx: OwnerCtx,
    session: SessionDep,
    now: NowDep,
    response: Response,
    if_match: SeriesIfMatchHeader = None,
) -> SeriesOut:
    change = class_series.SeriesChange(**body.model_dump(exclude_unset=True))
    edited = await class_series.edit_series(
        session, ctx, series_id, change, expected_version=parse_if_match(if_match), now=now
    )
    return _series_with_etag(edited, response)


@router.post(
    "/class-series/{series_id}/cancel",
    summary="Cancel a series and all its future sessions (owner)",
    description="Their bookings are cancelled by the business and their waitlists closed; whatever a "
    "booking paid is refunded in full. `If-Match` honoured (the series' `version`). 404 `series_not_found`; "
    "409 `session_closed` when already cancelled, `concurrent_update` when it changed meanwhile.",
    response_model=SeriesOut,
    responses=problem_responses(401, 403, 404, 409, 412),
)
async def cancel_series(
    series_id: uuid.UUID,
    ctx: OwnerCtx,
    session: SessionDep,
    now: NowDep,
    response: Response,
    if_match: SeriesIfMatchHeader = None,
) -> SeriesOut:
    cancelled = await class_flows.cancel_series(
        session, ctx, series_id, expected_version=parse_if_match(if_match), now=now
    )
    return _series_with_etag(cancelled, response)


@router.get(
    "/class-sessions",
    summary="Class sessions in a window, with seats left",
    description="Customers see the sessions they may book now (the timing rules of appointments: grid, "
    "minimum notice, horizon in whole local days), full ones included (they offer a waitlist); staff see "
    "every session, cancelled ones too. By start; " + PAGED,
    response_model=Page[SessionOut],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_sessions(
    ctx: MemberOrCustomerCtx,
    session: SessionDep,
    now: NowDep,
    from_: Annotated[Instant, Query(alias="from", description="Window start, with offset.")],
    to: Annotated[Instant, Query(description="Window end, with offset (at most 62 days later).")],
    service_id: uuid.UUID | None = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[SessionOut]:
    if from_.tzinfo is None or to.tzinfo is None:
        raise ValidationFailed.on("query.to", "valid_window", "Give `from` and `to` with a UTC offset.")
    # Staff see every session (cancelled too); customers, those they may book now.
    found = await class_sessions.list_sessions(
        session,
        ctx,
        start=from_,
        end=to,
        service_id=service_id,
        include_cancelled=ctx.is_staff,
        bookable_at=None if ctx.is_staff else now,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[session_out(v, ctx) for v in found.views], next_cursor=found.next_cursor)


@router.get(
    "/class-sessions/{session_id}",
    summary="One class session",
    description="Any signed-in user: its times, `capacity`, `seats_taken`, `seats_left` and `waiting` (the "
    "waitlist's length). The `ETag` header carries its version, for `If-Match` on edits. 404 "
    "`session_not_found`.",
    response_model=SessionOut,
    responses=problem_responses(401, 403, 404),
)
async def get_session(
    session_id: uuid.UUID, ctx: MemberOrCustomerCtx, session: SessionDep, response: Response
) -> SessionOut:
    return _with_etag(await class_sessions.get_session(session, ctx, session_id), ctx, response)


@router.patch(
    "/class-sessions/{session_id}",
    summary="Edit one occurrence (owner)",
    description="Moves its bookings with it; it is detached from later series edits. A new start follows "
    "the rules a published one does: on the slot grid, inside the business's opening hours (if it sets "
    "any): 422 `off_grid` / `outside_hours` otherwise. `If-Match` honoured. 404 `session_not_found`; 409 "
    "`session_closed` once cancelled or started, "
    "`instructor_busy` / `resource_busy` at a taken time, `concurrent_update` when it changed meanwhile.",
    response_model=SessionOut,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
async def edit_session(
    session_id: uuid.UUID,
    body: SessionChange,
    ctx: OwnerCtx,
    session: SessionDep,
    now: NowDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> SessionOut:
    change = class_sessions.SessionChange(**body.model_dump(exclude_unset=True))
    view = await class_sessions.edit_session(
        session, ctx, session_id, change, expected_version=parse_if_match(if_match), now=now
    )
    return _with_etag(view, ctx, response)


@router.post(
    "/class-sessions/{session_id}/cancel",
    summary="Cancel one occurrence (owner)",
    description="Its bookings are cancelled by the business and its waitlist closed; whatever a booking "
    "paid is refunded in full. `If-Match` honoured. 404 `session_not_found`; 409 `session_closed` once "
    "cancelled or started, `concurrent_update` when it changed meanwhile.",
    response_model=SessionOut,
    responses=problem_responses(401, 403, 404, 409, 412),
)
async def cancel_session(
    session_id: uuid.UUID,
    ctx: OwnerCtx,
    session: SessionDep,
    now: NowDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> SessionOut:
    view = await class_flows.cancel_session(
        session, ctx, session_id, expected_version=parse_if_match(if_match), now=now
    )
    return _with_etag(view, ctx, response)


@router.post(
    "/class-sessions/{session_id}/bookings",
    summary="Book a seat in a class session",
    description="Born `held` (with `hold_expires_at`) when the business asks for payment first, else "
    "`confirmed`. No seat free, or the free ones promised to the waitlist: 409 `session_full` (join the "
    "waitlist). A customer books only starts the timing rules accept (422 `in_past`, `off_grid`, "
    "`inside_min_notice`, `beyond_horizon`, as for appointments) and within the business's limits (409 "
    "`too_many_holds`, `daily_limit_reached`); a cancelled or started session answers 409 "
    "`session_closed`; 404 `session_not_found`; 403 `phone_required` as for bookings. `Idempotency-Key` "
    "works as for bookings.",
    status_code=status.HTTP_201_CREATED,
    response_model=BookingOut,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def book_seat(
    session_id: uuid.UUID,
    body: SeatCreate,
    ctx: MemberOrCustomerCtx,
    session: SessionDep,
    now: NowDep,
    response: Response,
    created: CreatedDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> BookingOut | JSONResponse:
    request = enrolment.SeatRequest(**body.model_dump())

    async def create() -> BookingOut:
        seat = await booking_flows.take_seat(session, ctx, session_id, request, now=now)
        return booking_out(seat, ctx.time_zone, response)

    bookings = f"/v1/businesses/{ctx.business_id}/bookings"
    return await create_once(
        session,
        ctx,
        idempotency_key,
        body,
        create,
        now=now,
        created=created,
        location=lambda b: f"{bookings}/{b['id']}",
    )


@router.post(
    "/class-sessions/{session_id}/waitlist",
    summary="Join a full session's waitlist",
    description="When a seat frees, the first in line gets it automatically (held for payment if the "
    "business asks for it). A session with a free seat answers 409 `seats_available`; a customer already "
    "in line, 409 `already_waiting`; a cancelled or started session, 409 `session_closed`; 404 "
    "`session_not_found`; 403 `phone_required` as for bookings.",
    status_code=status.HTTP_201_CREATED,
    response_model=WaitlistJoined,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def join_waitlist(
    session_id: uuid.UUID,
    body: SeatCreate,
    ctx: MemberOrCustomerCtx,
    session: SessionDep,
    now: NowDep,
    created: CreatedDep,
) -> WaitlistJoined:
    request = enrolment.SeatRequest(**body.model_dump())
    entry, place = await enrolment.join_waitlist(session, ctx, session_id, request, now=now)
    created.at_key(entry.id)
    return WaitlistJoined(**WaitlistEntryOut.model_validate(entry).model_dump(), place=place)


@router.get(
    "/class-sessions/{session_id}/waitlist",
    summary="A session's waitlist, in line order (staff)",
    description="Staff and owners. Every entry with its `status` (and `booking_id` once promoted). "
    + PAGED
    + " 404 `session_not_found`.",
    response_model=Page[WaitlistEntryOut],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_waitlist(
    session_id: uuid.UUID,
    ctx: StaffCtx,
    session: SessionDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[WaitlistEntryOut]:
    entries, next_cursor = await enrolment.list_waitlist(session, ctx, session_id, cursor=cursor, limit=limit)
    return Page(items=[WaitlistEntryOut.model_validate(e) for e in entries], next_cursor=next_cursor)


@router.delete(
    "/class-sessions/{session_id}/waitlist/{entry_id}",
    summary="Leave a waitlist (the customer, or the business)",
    description="Only a waiting entry leaves: one promoted or closed meanwhile, another customer's, or one "
    "of another session answers 404 `waitlist_entry_not_found`.",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404),
)
async def leave_waitlist(
    session_id: uuid.UUID, entry_id: uuid.UUID, ctx: MemberOrCustomerCtx, session: SessionDep
) -> Response:
    await enrolment.leave_waitlist(session, ctx, session_id, entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
