"""Publishing and editing recurring classes (owners).

A series stores its rule; its occurrences are stored as sessions up to the business's
booking horizon (the daily job extends open-ended series), each taking the series'
instructor and rooms as allocations, so seats, edits and cancellations are plain rows.
Editing a series changes its future occurrences that were not edited alone; editing
one occurrence detaches it from the series (`sessions`).

Expanding a rule is bounded by construction (`recurrence`) and runs in a worker thread:
no rule a caller sends can hold the event loop.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking.classes import allocations, placement, recurrence, sessions
from booklnk.booking.classes import repository as classes
from booklnk.booking.classes.errors import SeriesNotFound, SessionClosed
from booklnk.booking.classes.models import ClassSeries, ClassSession, SessionStatus
from booklnk.booking.errors import ConcurrentUpdate, VersionMismatch
from booklnk.catalog import repository as catalog
from booklnk.catalog.errors import ServiceNotFound
from booklnk.kernel.errors import BooklnkError, ValidationFailed
from booklnk.scheduling.intervals import Interval
from booklnk.scheduling.localtime import first_instant, reading
from booklnk.tenancy.context import BusinessContext

log = structlog.get_logger(__name__)
# A rule must yield a session within two years from tomorrow (its first dates may lie
# beyond the booking horizon: the daily job adds them when they come within it).
FIRST_OCCURRENCE_WITHIN = timedelta(days=731)


@dataclass(frozen=True, slots=True)
class SeriesSpec:
    service_id: uuid.UUID
    staff_id: uuid.UUID
    rrule: str
    starts_on: date
    start_time: time
    duration_minutes: int | None = None
    capacity: int | None = None
    resource_ids: list[uuid.UUID] | None = None


async def publish_series(
    session: AsyncSession, ctx: BusinessContext, spec: SeriesSpec, *, now: datetime
) -> tuple[ClassSeries, list[ClassSession]]:
    rules = sessions.class_rules(ctx, "body.service_id")
    rule = recurrence.parse(spec.rrule, spec.starts_on)
    placement.check_start_time(spec.start_time, rules.slot_grid_minutes, "body.start_time")
    service = await catalog.get_service(session, ctx.business_id, spec.service_id)
    if service is None or not service.active:
        raise ServiceNotFound("No such active service.")
    crew = await allocations.crew_for(session, ctx.business_id, service, spec.staff_id, spec.resource_ids)
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
        resource_ids=crew.resource_ids,
        status=SessionStatus.SCHEDULED,
        materialized_until=spec.starts_on - timedelta(days=1),
        version=1,
    )
    zone = ZoneInfo(ctx.time_zone)
    created, series.materialized_until = await _next_occurrences(series, rule, zone, rules.horizon_days, now)
    await classes.add_series(session, series)
    spans = [Interval(s.starts_at, s.ends_at) for s in created]
    await placement.check_spans_open(session, ctx.business_id, zone, spans, "body.start_time")
    await classes.add_sessions(session, created)
    await allocations.allocate(session, created, crew)
    if not created:
        tomorrow = reading(now, zone).date() + timedelta(days=1)
        found = await asyncio.to_thread(
            recurrence.next_date, rule, tomorrow, tomorrow + FIRST_OCCURRENCE_WITHIN
        )
        if found is None:
            raise ValidationFailed.on(
                "body.rrule", "no_occurrences", "The rule yields no session in two years."
            )
    return series, created


async def _next_occurrences(
    series: ClassSeries, rule: recurrence.Recurrence, zone: ZoneInfo, horizon_days: int, now: datetime
) -> tuple[list[ClassSession], date]:
    """The series' occurrences from where it stopped up to the horizon, not yet started,
    as new rows (not written), and the last local date they cover."""
    first = max(series.materialized_until + timedelta(days=1), reading(now, zone).date())
    last = reading(now, zone).date() + timedelta(days=horizon_days)
    if first > last:
        return [], series.materialized_until
    starts = await asyncio.to_thread(recurrence.occurrences, rule, series.start_time, zone, first, last)
    return [
        ClassSession(
            business_id=series.business_id,
            id=uuid.uuid4(),
            series_id=series.id,
            occurrence=start,
            detached=False,
            service_id=series.service_id,
            staff_id=series.staff_id,
            starts_at=start,
            ends_at=start + timedelta(minutes=series.duration_minutes),
            capacity=series.capacity,
            seats_taken=0,
            status=SessionStatus.SCHEDULED,
            version=1,
        )
        for start in starts
        if start > now
    ], last


async def get_series(session: AsyncSession, ctx: BusinessContext, series_id: uuid.UUID) -> ClassSeries:
    series = await classes.get_series(session, ctx.business_id, series_id)
    if series is None:
        raise SeriesNotFound("No such class series.")
    return series


async def list_series(session: AsyncSession, ctx: BusinessContext, *, limit: int) -> list[ClassSeries]:
    """The series still running (a timetable), by first date and time."""
    return await classes.open_series(session, ctx.business_id, limit=limit)


@dataclass(frozen=True, slots=True)
class SeriesChange:
    staff_id: uuid.UUID | None = None
    resource_ids: list[uuid.UUID] | None = None
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
    """Change the instructor, rooms, capacity or local start time of the series and of its
    future occurrences not edited alone (a moved one takes its bookings along):
    compare-and-swap on the series' version and on each occurrence's. (A new rule is a
    new series.)"""
    series = await _open_series(session, ctx, series_id, expected_version)
    values: dict[str, object] = {}
    if change.capacity is not None:
        values["capacity"] = change.capacity
    crew = None
    if change.staff_id is not None or change.resource_ids is not None:
        service = await catalog.get_service(session, ctx.business_id, series.service_id)
        assert service is not None  # the series' foreign key
        staff_id = change.staff_id or series.staff_id
        names = series.resource_ids if change.resource_ids is None else change.resource_ids
        crew = await allocations.crew_for(session, ctx.business_id, service, staff_id, names)
    future = await classes.future_sessions(session, series, now, attached_only=True)
    moves = {} if change.start_time is None else await _retimed(session, ctx, future, change.start_time, now)
    for occurrence in future:
        if change.capacity is not None:
            sessions.check_capacity(occurrence, change.capacity, "body.capacity")
        span = moves.get(occurrence.id, Interval(occurrence.starts_at, occurrence.ends_at))
        await sessions.move(
            session, occurrence, values, span, crew, occurrence=occurrence.id in moves, now=now
        )
    series_values = dict(values)
    if crew is not None:
        series_values.update(staff_id=crew.staff.id, resource_ids=crew.resource_ids)
    if change.start_time is not None:
        series_values["start_time"] = change.start_time
    return await _swap_series(session, series, series_values)


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
    rules = sessions.class_rules(ctx, "body.start_time")
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
    await placement.check_spans_open(session, ctx.business_id, zone, list(moves.values()), "body.start_time")
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
    series and the cancelled bookings (whose refunds the caller records in this
    transaction)."""
    series = await _open_series(session, ctx, series_id, expected_version)
    future = await classes.future_sessions(session, series, now, attached_only=False)
    cancelled = await sessions.cancel_all(session, ctx, future, now=now)
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
    swapped = await classes.swap_series(session, series, values)
    if swapped is None:
        raise ConcurrentUpdate("The series changed meanwhile; read it again and retry.")
    return swapped


async def extend_series(session: AsyncSession, ctx: BusinessContext, *, now: datetime) -> int:
    """Store the next occurrences of the business's open series up to the horizon (the
    daily job); returns how many sessions were added. An occurrence whose instructor or
    room is taken by then is left out (and logged) rather than failing the others."""
    if ctx.rules.mode != "class":
        return 0
    added = 0
    zone = ZoneInfo(ctx.time_zone)
    for series in await classes.open_series(session, ctx.business_id):
        crew = await _series_crew(session, series)
        if crew is None:
            continue
        try:
            rule = recurrence.parse(series.rrule, series.starts_on)
        except BooklnkError:
            log.warning("class_series_rule_refused", series_id=str(series.id))
            continue
        planned, last = await _next_occurrences(series, rule, zone, ctx.rules.horizon_days, now)
        await classes.materialized(session, series, last)
        refused = await allocations.place_each(session, planned, crew)
        for skipped in refused:
            log.warning("class_session_not_placed", series_id=str(series.id), starts_at=skipped.starts_at)
        added += len(planned) - len(refused)
    return added


async def _series_crew(session: AsyncSession, series: ClassSeries) -> allocations.Crew | None:
    """The series' instructor and rooms, while all of them are active."""
    staff = await catalog.get_staff(session, series.business_id, series.staff_id)
    rooms = [await catalog.get_resource(session, series.business_id, r) for r in series.resource_ids]
    if staff is None or not staff.active or any(r is None or not r.active for r in rooms):
        return None
    return allocations.Crew(staff, tuple(r for r in rooms if r is not None))
