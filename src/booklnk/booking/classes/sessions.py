"""Class sessions one at a time: reading them (everyone), editing and cancelling one
occurrence (owners), and the writes every session change shares: compare-and-swap on
its version, its seats' bookings moved along, its instructor and rooms re-allocated.

Cancelling cancels the session's bookings through the state graph (`transitions`),
frees its rooms and closes its line, in the caller's transaction; refunding what the
bookings paid is the application service's part (`booklnk.flows`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking import integrator_events, messages, occupancy, transitions
from booklnk.booking import repository as bookings
from booklnk.booking.classes import allocations, placement, seats
from booklnk.booking.classes import repository as classes
from booklnk.booking.classes.errors import SessionClosed, SessionNotFound
from booklnk.booking.classes.models import ClassSession, SessionStatus
from booklnk.booking.errors import ConcurrentUpdate, VersionMismatch
from booklnk.booking.lifecycle import Action
from booklnk.business_types.definition import EffectiveRules
from booklnk.catalog import repository as catalog
from booklnk.catalog.models import Service
from booklnk.kernel.errors import ValidationFailed
from booklnk.scheduling.intervals import Interval
from booklnk.scheduling.rules import BookingTime, SlotRules
from booklnk.tenancy.context import BusinessContext

MAX_WINDOW_DAYS = 62


@dataclass(frozen=True, slots=True)
class SessionView:
    session: ClassSession
    waiting: int
    resource_ids: tuple[uuid.UUID, ...] = ()

    @property
    def seats_left(self) -> int:
        return max(0, self.session.capacity - self.session.seats_taken)


def class_rules(ctx: BusinessContext, field: str) -> EffectiveRules:
    if ctx.rules.mode != "class":
        raise ValidationFailed.on(field, "class_mode_only", "This business books appointments, not classes.")
    return ctx.rules


def booking_time(ctx: BusinessContext, now: datetime) -> BookingTime:
    """The timing rules appointments follow, for session starts: the session listing
    offers, and a seat booking accepts, exactly the starts its `rejection` lets through."""
    return BookingTime(SlotRules.from_effective(ctx.rules), ZoneInfo(ctx.time_zone), now)


@dataclass(frozen=True, slots=True)
class SessionPage:
    views: list[SessionView]
    next_cursor: str | None  # None on the last page, or when the window was read whole


async def list_sessions(
    session: AsyncSession,
    ctx: BusinessContext,
    *,
    start: datetime,
    end: datetime,
    service_id: uuid.UUID | None = None,
    include_cancelled: bool = False,
    bookable_at: datetime | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> SessionPage:
    """Sessions starting in [start, end), by start: one page of `limit`, or all of them.
    With `bookable_at`, only the scheduled ones a customer may book at that instant (the
    seat booking's own timing rule), full or not; a page may then hold fewer than `limit`."""
    if end <= start or end - start > timedelta(days=MAX_WINDOW_DAYS):
        raise ValidationFailed.on(
            "query.to", "valid_window", f"Give `from` < `to`, at most {MAX_WINDOW_DAYS} days."
        )
    timing = None
    if bookable_at is not None:
        timing = booking_time(ctx, bookable_at)
        start, end = max(start, timing.earliest), min(end, timing.horizon_end)
        include_cancelled = False
    if end <= start:
        return SessionPage([], None)
    rows, next_cursor = await classes.list_sessions(
        session,
        classes.sessions_in(ctx.business_id, start, end, service_id, include_cancelled),
        cursor=cursor,
        limit=limit,
    )
    if timing is not None:
        rows = [(row, waiting) for row, waiting in rows if timing.rejection(row.starts_at) is None]
    rooms = await occupancy.session_resources(session, ctx.business_id, [row.id for row, _ in rows])
    views = [SessionView(row, waiting, tuple(rooms.get(row.id, ()))) for row, waiting in rows]
    return SessionPage(views, next_cursor)


async def get_session(session: AsyncSession, ctx: BusinessContext, session_id: uuid.UUID) -> SessionView:
    found = await seats.read(session, ctx.business_id, session_id)
    if found is None:
        raise SessionNotFound("No such class session.")
    waiting = await classes.waiting_count(session, ctx.business_id, session_id)
    rooms = await occupancy.session_resources(session, ctx.business_id, [session_id])
    return SessionView(found, waiting, tuple(rooms.get(session_id, ())))


@dataclass(frozen=True, slots=True)
class SessionChange:
    starts_at: datetime | None = None
    staff_id: uuid.UUID | None = None
    resource_ids: list[uuid.UUID] | None = None
    capacity: int | None = None


async def edit_session(
    session: AsyncSession,
    ctx: BusinessContext,
    session_id: uuid.UUID,
    change: SessionChange,
    *,
    expected_version: int | None,
    now: datetime,
) -> SessionView:
    """Edit one occurrence (it leaves its series' edits): compare-and-swap on its version;
    its bookings move with it, its instructor and rooms are taken anew; a larger capacity
    goes to the waitlist first."""
    current = (await get_session(session, ctx, session_id)).session
    check_not_started(current, now)
    check_expected(current, expected_version)
    values: dict[str, object] = {"detached": True}
    if change.capacity is not None:
        check_capacity(current, change.capacity, "body.capacity")
        values["capacity"] = change.capacity
    span = Interval(current.starts_at, current.ends_at)
    if change.starts_at is not None:
        span = _moved_span(ctx, current, change.starts_at, now)
        await placement.check_spans_open(
            session, ctx.business_id, ZoneInfo(ctx.time_zone), [span], "body.starts_at"
        )
    crew = None
    if change.staff_id is not None or change.resource_ids is not None:
        service = await _service_of(session, current)
        names = change.resource_ids
        if names is None:
            names = (await allocations.crew_of(session, current)).resource_ids
        crew = await allocations.crew_for(
            session, ctx.business_id, service, change.staff_id or current.staff_id, names
        )
    await move(session, current, values, span, crew, now=now)
    return await get_session(session, ctx, session_id)


async def move(
    session: AsyncSession,
    current: ClassSession,
    values: dict[str, object],
    span: Interval,
    crew: allocations.Crew | None,
    *,
    occurrence: bool = False,
    now: datetime,
) -> None:
    """Write a session's change (compare-and-swap), with its time and crew (None: the
    crew it has): its seats' bookings take the new time, its allocations are taken anew
    (409 naming what is taken), and a larger capacity is offered to the waitlist.
    `occurrence`: the series' own time of it moves too (a series edit), so
    re-materialising never duplicates it."""
    moved = span != Interval(current.starts_at, current.ends_at)
    if crew is None and moved:
        crew = await allocations.crew_of(session, current)
    own = {**values, "starts_at": span.start, "ends_at": span.end}
    if crew is not None:
        own["staff_id"] = crew.staff.id
    if occurrence:
        own["occurrence"] = span.start
    if not await classes.swap_session(session, current, own):
        raise stale()
    if crew is not None:
        await allocations.reallocate(session, current, span, crew)
    if moved:
        seats_moved = await bookings.move_session_bookings(session, current.business_id, current.id, span)
        await messages.tell(session, current.business_id, seats_moved, messages.Event.RESCHEDULED, now=now)
        await integrator_events.emit(
            session, current.business_id, seats_moved, integrator_events.RESCHEDULED, now=now
        )
    capacity = values.get("capacity")
    if isinstance(capacity, int) and capacity > current.capacity:
        await seats.promote_later(session, current.business_id, current.id)


def _moved_span(ctx: BusinessContext, current: ClassSession, starts_at: datetime, now: datetime) -> Interval:
    """The occurrence's new time, on the grid, keeping its duration."""
    if starts_at <= now:
        raise ValidationFailed.on("body.starts_at", "in_the_past", "A session cannot move into the past.")
    rules = class_rules(ctx, "body.starts_at")
    placement.check_moved_start(starts_at, ZoneInfo(ctx.time_zone), rules.slot_grid_minutes, "body.starts_at")
    return Interval(starts_at, starts_at + (current.ends_at - current.starts_at))


async def _service_of(session: AsyncSession, current: ClassSession) -> Service:
    service = await catalog.get_service(session, current.business_id, current.service_id)
    assert service is not None  # the session's foreign key
    return service


async def cancel_session(
    session: AsyncSession,
    ctx: BusinessContext,
    session_id: uuid.UUID,
    *,
    expected_version: int | None,
    now: datetime,
) -> tuple[SessionView, list[uuid.UUID]]:
    """Cancel one occurrence: its bookings are cancelled by the business, its rooms freed
    and its waitlist closed, in the same transaction. Returns the session and the
    cancelled bookings (whose refunds the caller records in this transaction)."""
    current = (await get_session(session, ctx, session_id)).session
    check_not_started(current, now)
    check_expected(current, expected_version)
    cancelled = await cancel_all(session, ctx, [current], now=now)
    return await get_session(session, ctx, session_id), cancelled


async def cancel_all(
    session: AsyncSession, ctx: BusinessContext, sessions: Sequence[ClassSession], *, now: datetime
) -> list[uuid.UUID]:
    """Cancel the sessions (each by compare-and-swap), their active bookings (through the
    state graph, all in one statement), their allocations and their lines."""
    for current in sessions:
        if not await classes.swap_session(session, current, {"status": SessionStatus.CANCELLED}):
            raise stale()
    ids = [s.id for s in sessions]
    if not ids:
        return []
    cancelled = await transitions.transition_many(
        session,
        ctx.business_id,
        Action.CANCEL,
        transitions.audit_of(ctx, now),
        session_ids=ids,
        promote=False,
    )
    await allocations.release(session, ctx.business_id, ids)
    await classes.close_lines(session, ctx.business_id, ids)
    return cancelled


def check_not_started(current: ClassSession, now: datetime) -> None:
    """Only a scheduled session that has not started may change."""
    if current.status is not SessionStatus.SCHEDULED or current.starts_at <= now:
        raise SessionClosed("The session was cancelled or has started.")


def check_expected(current: ClassSession, expected_version: int | None) -> None:
    if expected_version is not None and current.version != expected_version:
        raise VersionMismatch(f"The session is at version {current.version}, not {expected_version}.")


def check_capacity(current: ClassSession, capacity: int, field: str) -> None:
    if capacity < current.seats_taken:
        raise ValidationFailed.on(
            field,
            "capacity_below_seats_taken",
            f"{current.seats_taken} seats are taken on {current.starts_at.isoformat()}; "
            "cancel bookings first or choose a larger capacity.",
        )


def stale() -> ConcurrentUpdate:
    """The answer when a session changed between our read and our write."""
    return ConcurrentUpdate("The session changed meanwhile; read it again and retry.")
