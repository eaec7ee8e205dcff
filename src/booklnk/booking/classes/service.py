"""Publishing and editing class sessions (owners), and reading them (everyone).

A series stores its rule; its occurrences are stored as sessions up to the business's
booking horizon (the daily job extends open-ended series), so seats, edits and
cancellations are plain rows. Editing a series changes its future occurrences that were
not edited alone; editing one occurrence detaches it from the series.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule
from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking.classes import occurrences, placement, recurrence, seats
from booklnk.booking.classes.errors import InstructorBusy, SeriesNotFound, SessionClosed, SessionNotFound
from booklnk.booking.classes.models import (
    ClassSeries,
    ClassSession,
    SessionStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from booklnk.booking.errors import ConcurrentUpdate, VersionMismatch
from booklnk.business_types.definition import EffectiveRules
from booklnk.catalog import repository as catalog
from booklnk.catalog.errors import ServiceNotFound, StaffNotFound
from booklnk.db.errors import violated_constraint
from booklnk.kernel.errors import ValidationFailed
from booklnk.scheduling.intervals import Interval
from booklnk.scheduling.localtime import first_instant, reading
from booklnk.scheduling.rules import BookingTime, SlotRules
from booklnk.tenancy import service as tenancy
from booklnk.tenancy.context import BusinessContext

MAX_WINDOW_DAYS = 62


@dataclass(frozen=True, slots=True)
class SeriesSpec:
    service_id: uuid.UUID
    staff_id: uuid.UUID
    rrule: str
    starts_on: date
    start_time: time
    duration_minutes: int | None = None
    capacity: int | None = None


@dataclass(frozen=True, slots=True)
class SessionView:
    session: ClassSession
    waiting: int

    @property
    def seats_left(self) -> int:
        return max(0, self.session.capacity - self.session.seats_taken)


async def class_rules(session: AsyncSession, ctx: BusinessContext, field: str) -> EffectiveRules:
    rules = await tenancy.business_rules(session, ctx)
    if rules.mode != "class":
        raise ValidationFailed.on(field, "class_mode_only", "This business books appointments, not classes.")
    return rules


def booking_time(rules: EffectiveRules, ctx: BusinessContext, now: datetime) -> BookingTime:
    """The timing rules appointments follow, for session starts: the session listing
    offers, and a seat booking accepts, exactly the starts its `rejection` lets through."""
    return BookingTime(SlotRules.from_effective(rules), ZoneInfo(ctx.time_zone), now)


async def publish_series(
    session: AsyncSession, ctx: BusinessContext, spec: SeriesSpec, *, now: datetime
) -> tuple[ClassSeries, list[ClassSession]]:
    rules = await class_rules(session, ctx, "body.service_id")
    rule = recurrence.parse(spec.rrule, spec.starts_on)
    placement.check_start_time(spec.start_time, rules.slot_grid_minutes, "body.start_time")
    service = await catalog.get_service(session, ctx.business_id, spec.service_id)
    if service is None or not service.active:
        raise ServiceNotFound("No such active service.")
    lane = await _instructor_lane(session, ctx, spec.staff_id)
    duration = spec.duration_minutes or service.duration_options_minutes[0]
    if duration not in service.duration_options_minutes:
        raise ValidationFailed.on(
            "body.duration_minutes",
            "duration_not_offered",
            f"Choose one of {service.duration_options_minutes}.",
        )
    series = ClassSeries(
        business_id=ctx.business_id,
        id=uuid.uuid4(),
        service_id=service.id,
        staff_id=spec.staff_id,
        rrule=spec.rrule.strip(),
        starts_on=spec.starts_on,
        start_time=spec.start_time,
        duration_minutes=duration,
        capacity=spec.capacity or service.capacity,
        status=SessionStatus.SCHEDULED,
        materialized_until=spec.starts_on - timedelta(days=1),
        version=1,
    )
    session.add(series)
    zone = ZoneInfo(ctx.time_zone)
    created = await materialize(session, series, rule, zone, lane, rules.horizon_days, now)
    await _check_opening_hours(session, ctx, zone, created)
    if not created and rule.after(datetime.combine(reading(now, zone).date(), time())) is None:
        # (A rule whose first dates lie beyond the horizon is fine: the daily job adds them.)
        raise ValidationFailed.on("body.rrule", "no_occurrences", "The rule yields no future session.")
    return series, created


async def _check_opening_hours(
    session: AsyncSession, ctx: BusinessContext, zone: ZoneInfo, sessions: Sequence[ClassSession]
) -> None:
    """Every stored occurrence lies inside the business's opening hours (if it sets any)."""
    spans = [Interval(s.starts_at, s.ends_at) for s in sessions]
    opening = await placement.opening_hours(session, ctx.business_id, zone, spans)
    for span in spans:
        placement.check_open(opening, span, zone, "body.start_time")


async def materialize(
    session: AsyncSession,
    series: ClassSeries,
    rule: rrule,
    zone: ZoneInfo,
    lane: int,
    horizon_days: int,
    now: datetime,
) -> list[ClassSession]:
    """Store the series' occurrences from where it stopped up to the horizon, skipping
    those already started. An instructor overlap answers 409 and stores nothing."""
    first = max(series.materialized_until + timedelta(days=1), reading(now, zone).date())
    last = reading(now, zone).date() + timedelta(days=horizon_days)
    if first > last:
        return []
    rows = [
        ClassSession(
            business_id=series.business_id,
            id=uuid.uuid4(),
            series_id=series.id,
            occurrence=start,
            detached=False,
            service_id=series.service_id,
            staff_id=series.staff_id,
            lane=lane,
            starts_at=start,
            ends_at=start + timedelta(minutes=series.duration_minutes),
            capacity=series.capacity,
            seats_taken=0,
            status=SessionStatus.SCHEDULED,
            version=1,
        )
        for start in recurrence.occurrences(rule, series.start_time, zone, first, last)
        if start > now
    ]
    series.materialized_until = last
    session.add_all(rows)
    await _flush_sessions(session)
    return rows


async def _flush_sessions(session: AsyncSession) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        if violated_constraint(exc) == "ex_class_session_instructor":
            raise InstructorBusy("The instructor already teaches a session at an overlapping time.") from None
        raise


async def _instructor_lane(session: AsyncSession, ctx: BusinessContext, staff_id: uuid.UUID) -> int:
    staff = await catalog.get_staff(session, ctx.business_id, staff_id)
    if staff is None or not staff.active:
        raise StaffNotFound("No such active staff member.")
    return staff.lane


async def list_sessions(
    session: AsyncSession,
    ctx: BusinessContext,
    *,
    start: datetime,
    end: datetime,
    service_id: uuid.UUID | None = None,
    include_cancelled: bool = False,
    bookable_at: datetime | None = None,
) -> list[SessionView]:
    """Sessions starting in [start, end). With `bookable_at`, only the scheduled ones a
    customer may book at that instant (the seat booking's own timing rule), full or not."""
    if end <= start or end - start > timedelta(days=MAX_WINDOW_DAYS):
        raise ValidationFailed.on(
            "query.to", "valid_window", f"Give `from` < `to`, at most {MAX_WINDOW_DAYS} days."
        )
    timing = None
    if bookable_at is not None:
        timing = booking_time(await tenancy.business_rules(session, ctx), ctx, bookable_at)
        start, end = max(start, timing.earliest), min(end, timing.horizon_end)
        include_cancelled = False
    if end <= start:
        return []
    stmt = _sessions_in(ctx.business_id, start, end, service_id, include_cancelled)
    views = [SessionView(row, count) for row, count in (await session.execute(stmt)).all()]
    if timing is None:
        return views
    return [v for v in views if timing.rejection(v.session.starts_at) is None]


def _sessions_in(
    business_id: uuid.UUID,
    start: datetime,
    end: datetime,
    service_id: uuid.UUID | None,
    include_cancelled: bool,
) -> Select[ClassSession, int]:
    waiting = (
        select(func.count())
        .where(
            WaitlistEntry.business_id == ClassSession.business_id,
            WaitlistEntry.session_id == ClassSession.id,
            WaitlistEntry.status == WaitlistStatus.WAITING,
        )
        .scalar_subquery()
    )
    stmt = (
        select(ClassSession, waiting)
        .where(
            ClassSession.business_id == business_id,
            ClassSession.starts_at >= start,
            ClassSession.starts_at < end,
        )
        .order_by(ClassSession.starts_at, ClassSession.id)
    )
    if service_id is not None:
        stmt = stmt.where(ClassSession.service_id == service_id)
    if not include_cancelled:
        stmt = stmt.where(ClassSession.status == SessionStatus.SCHEDULED)
    return stmt


async def get_session(session: AsyncSession, ctx: BusinessContext, session_id: uuid.UUID) -> SessionView:
    found = await seats.read(session, ctx.business_id, session_id)
    if found is None:
        raise SessionNotFound("No such class session.")
    return SessionView(found, await seats.waiting_count(session, ctx.business_id, session_id))


@dataclass(frozen=True, slots=True)
class SessionChange:
    starts_at: datetime | None = None
    staff_id: uuid.UUID | None = None
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
    its bookings move with it; a larger capacity goes to the waitlist first."""
    current = (await get_session(session, ctx, session_id)).session
    occurrences.check_not_started(current, now)
    occurrences.check_expected(current, expected_version)
    values: dict[str, object] = {"detached": True}
    if change.capacity is not None:
        occurrences.check_capacity(current, change.capacity, "body.capacity")
        values["capacity"] = change.capacity
    if change.staff_id is not None:
        values["staff_id"] = change.staff_id
        values["lane"] = await _instructor_lane(session, ctx, change.staff_id)
    if change.starts_at is not None:
        moved = await _moved_span(session, ctx, current, change.starts_at, now)
        values["starts_at"], values["ends_at"] = moved.start, moved.end
    if not await occurrences.swap(session, current, values):
        raise occurrences.stale()
    if change.starts_at is not None:
        await occurrences.move_bookings(session, current, moved)
    if change.capacity is not None and change.capacity > current.capacity:
        await seats.promote_later(session, ctx.business_id, session_id)
    return await get_session(session, ctx, session_id)


async def _moved_span(
    session: AsyncSession, ctx: BusinessContext, current: ClassSession, starts_at: datetime, now: datetime
) -> Interval:
    """The occurrence's new time, placed by the rules a published one follows (the grid,
    the business's opening hours), keeping its duration."""
    if starts_at <= now:
        raise ValidationFailed.on("body.starts_at", "in_the_past", "A session cannot move into the past.")
    rules = await class_rules(session, ctx, "body.starts_at")
    zone = ZoneInfo(ctx.time_zone)
    placement.check_moved_start(starts_at, zone, rules.slot_grid_minutes, "body.starts_at")
    span = Interval(starts_at, starts_at + (current.ends_at - current.starts_at))
    opening = await placement.opening_hours(session, ctx.business_id, zone, [span])
    placement.check_open(opening, span, zone, "body.starts_at")
    return span


async def cancel_session(
    session: AsyncSession,
    ctx: BusinessContext,
    session_id: uuid.UUID,
    *,
    expected_version: int | None,
    now: datetime,
) -> tuple[SessionView, list[uuid.UUID]]:
    """Cancel one occurrence: its bookings are cancelled by the business and its waitlist
    closed, in the same transaction. Returns the session and the cancelled bookings (the
    caller refunds what they paid, in this transaction)."""
    current = (await get_session(session, ctx, session_id)).session
    occurrences.check_not_started(current, now)
    occurrences.check_expected(current, expected_version)
    cancelled = await occurrences.cancel_all(session, [current])
    return await get_session(session, ctx, session_id), cancelled


async def get_series(session: AsyncSession, ctx: BusinessContext, series_id: uuid.UUID) -> ClassSeries:
    series = await session.get(ClassSeries, (ctx.business_id, series_id), populate_existing=True)
    if series is None:
        raise SeriesNotFound("No such class series.")
    return series


async def _future_sessions(
    session: AsyncSession, series: ClassSeries, now: datetime, *, attached_only: bool
) -> list[ClassSession]:
    stmt = (
        select(ClassSession)
        .where(
            ClassSession.business_id == series.business_id,
            ClassSession.series_id == series.id,
            ClassSession.status == SessionStatus.SCHEDULED,
            ClassSession.starts_at > now,
        )
        .order_by(ClassSession.starts_at)
        .execution_options(populate_existing=True)
    )
    if attached_only:
        stmt = stmt.where(ClassSession.detached.is_(False))
    return list((await session.execute(stmt)).scalars())


@dataclass(frozen=True, slots=True)
class SeriesChange:
    staff_id: uuid.UUID | None = None
    capacity: int | None = None
    start_time: time | None = None


async def edit_series(
    session: AsyncSession,
    ctx: BusinessContext,
    series_id: uuid.UUID,
    change: SeriesChange,
    *,
    expected_version: int | None,
    now: datetime,
) -> ClassSeries:
    """Change the instructor, capacity or local start time of the series and of its future
    occurrences not edited alone (a moved one takes its bookings along): compare-and-swap
    on the series' version and on each occurrence's. (A new rule is a new series.)"""
    series = await _open_series(session, ctx, series_id, expected_version)
    values: dict[str, object] = {}
    if change.capacity is not None:
        values["capacity"] = change.capacity
    if change.staff_id is not None:
        values["staff_id"] = change.staff_id
        values["lane"] = await _instructor_lane(session, ctx, change.staff_id)
    future = await _future_sessions(session, series, now, attached_only=True)
    moves = {} if change.start_time is None else await _retimed(session, ctx, future, change.start_time, now)
    for occurrence in future:
        await _edit_occurrence(session, occurrence, values, moves.get(occurrence.id), change.capacity)
    series_values = {k: v for k, v in values.items() if k in ("capacity", "staff_id")}
    if change.start_time is not None:
        series_values["start_time"] = change.start_time
    return await _swap_series(session, series, series_values)


async def _edit_occurrence(
    session: AsyncSession,
    occurrence: ClassSession,
    values: dict[str, object],
    moved: Interval | None,
    capacity: int | None,
) -> None:
    """One attached occurrence takes the series' change (and its new time, if any)."""
    if capacity is not None:
        occurrences.check_capacity(occurrence, capacity, "body.capacity")
    own = dict(values)
    if moved is not None:
        own.update(starts_at=moved.start, ends_at=moved.end, occurrence=moved.start)
    if not await occurrences.swap(session, occurrence, own):
        raise occurrences.stale()
    if moved is not None:
        await occurrences.move_bookings(session, occurrence, moved)
    if capacity is not None and capacity > occurrence.capacity:
        await seats.promote_later(session, occurrence.business_id, occurrence.id)


async def _retimed(
    session: AsyncSession,
    ctx: BusinessContext,
    future: Sequence[ClassSession],
    start_time: time,
    now: datetime,
) -> dict[uuid.UUID, Interval]:
    """Each occurrence's time at `start_time` on its own local date (a skipped or repeated
    hour resolved as when publishing), keeping its duration, placed by the rules a
    published occurrence follows; none may fall in the past."""
    rules = await class_rules(session, ctx, "body.start_time")
    placement.check_start_time(start_time, rules.slot_grid_minutes, "body.start_time")
    zone = ZoneInfo(ctx.time_zone)
    minute = start_time.hour * 60 + start_time.minute
    moves: dict[uuid.UUID, Interval] = {}
    for occurrence in future:
        day = reading(occurrence.starts_at, zone).date()
        start = first_instant(day, minute, zone)
        if start <= now:
            raise ValidationFailed.on(
                "body.start_time",
                "in_the_past",
                f"The session on {day} would start in the past; edit it alone.",
            )
        moves[occurrence.id] = Interval(start, start + (occurrence.ends_at - occurrence.starts_at))
    spans = sorted(moves.values(), key=lambda span: span.start)
    opening = await placement.opening_hours(session, ctx.business_id, zone, spans)
    for span in spans:
        placement.check_open(opening, span, zone, "body.start_time")
    return moves


async def cancel_series(
    session: AsyncSession,
    ctx: BusinessContext,
    series_id: uuid.UUID,
    *,
    expected_version: int | None,
    now: datetime,
) -> tuple[ClassSeries, list[uuid.UUID]]:
    """Cancel the series and every future occurrence, edited alone or not. Returns the
    series and the cancelled bookings (the caller refunds them, in this transaction)."""
    series = await _open_series(session, ctx, series_id, expected_version)
    cancelled = await occurrences.cancel_all(
        session, await _future_sessions(session, series, now, attached_only=False)
    )
    return await _swap_series(session, series, {"status": SessionStatus.CANCELLED}), cancelled


async def _open_series(
    session: AsyncSession, ctx: BusinessContext, series_id: uuid.UUID, expected_version: int | None
) -> ClassSeries:
    series = await get_series(session, ctx, series_id)
    if series.status is not SessionStatus.SCHEDULED:
        raise SessionClosed("The series was cancelled.")
    if expected_version is not None and series.version != expected_version:
        raise VersionMismatch(f"The series is at version {series.version}, not {expected_version}.")
    return series


async def _swap_series(session: AsyncSession, series: ClassSeries, values: dict[str, object]) -> ClassSeries:
    """Write the series if it is still at the version it was read at (else 409)."""
    stmt = (
        update(ClassSeries)
        .where(
            ClassSeries.business_id == series.business_id,
            ClassSeries.id == series.id,
            ClassSeries.version == series.version,
        )
        .values(**values, version=ClassSeries.version + 1, updated_at=func.now())
        .returning(ClassSeries)
        .execution_options(populate_existing=True)
    )
    swapped = (await session.execute(stmt)).scalar_one_or_none()
    if swapped is None:
        raise ConcurrentUpdate("The series changed meanwhile; read it again and retry.")
    return swapped


async def extend_series(session: AsyncSession, ctx: BusinessContext, *, now: datetime) -> int:
    """Store the next occurrences of the business's open series up to the horizon (the
    daily job); returns how many sessions were added."""
    rules = await tenancy.business_rules(session, ctx)
    if rules.mode != "class":
        return 0
    stmt = select(ClassSeries).where(
        ClassSeries.business_id == ctx.business_id, ClassSeries.status == SessionStatus.SCHEDULED
    )
    added = 0
    for series in (await session.execute(stmt)).scalars():
        staff = await catalog.get_staff(session, ctx.business_id, series.staff_id)
        if staff is None or not staff.active:
            continue
        rule = recurrence.parse(series.rrule, series.starts_on)
        zone = ZoneInfo(ctx.time_zone)
        added += len(await materialize(session, series, rule, zone, staff.lane, rules.horizon_days, now))
    return added
