"""Use cases for schedules, the same for every owner: the business (opening hours), a
staff member or a resource. Owners write them; staff read them; a staff member linked to
a user account may also manage their own time off.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.audit import log as audit
from booklnk.catalog import repository, schedule_rows
from booklnk.catalog.errors import (
    DateOverrideExists,
    DateOverrideNotFound,
    ResourceNotFound,
    StaffNotFound,
    TimeOffNotFound,
)
from booklnk.catalog.models import DateOverride, DateOverrideInterval, IntervalKind, TimeOff, WeeklyInterval
from booklnk.catalog.owner import ScheduleOwner
from booklnk.catalog.schedule_rules import (
    DayOverride,
    Span,
    WeeklySchedule,
    WeeklySpan,
    check_override,
    check_period,
    check_weekly,
    from_db_time,
)
from booklnk.kernel.errors import ValidationFailed
from booklnk.tenancy.context import BusinessContext
from booklnk.tenancy.errors import InsufficientRole


async def access_owner(session: AsyncSession, ctx: BusinessContext, owner: ScheduleOwner) -> None:
    """The owner exists in this business (any other tenant's id is simply not found)."""
    business_id = ctx.business_id
    if owner.staff_id is not None and not await repository.get_staff(session, business_id, owner.staff_id):
        raise StaffNotFound("No such staff member.")
    if owner.resource_id is not None and not await repository.get_resource(
        session, business_id, owner.resource_id
    ):
        raise ResourceNotFound("No such resource.")


async def get_weekly_schedule(
    session: AsyncSession, ctx: BusinessContext, owner: ScheduleOwner
) -> WeeklySchedule:
    await access_owner(session, ctx, owner)
    schedule = WeeklySchedule()
    for row in await repository.weekly_intervals(session, ctx.business_id, owner):
        target = schedule.hours if row.kind == IntervalKind.HOURS else schedule.breaks
        target.append(WeeklySpan(row.weekday, _span(row)))
    return schedule.sorted()


async def owner_schedules(
    session: AsyncSession,
    ctx: BusinessContext,
    *,
    staff_ids: Collection[uuid.UUID],
    resource_ids: Collection[uuid.UUID],
    dates: tuple[date, date],
    period: tuple[datetime, datetime],
) -> dict[schedule_rows.OwnerRef, schedule_rows.OwnerSchedule]:
    """The business's, these staff members' and these resources' schedules in one read
    (see `schedule_rows.owner_schedules`): what the desk's calendar draws."""
    return await schedule_rows.owner_schedules(
        session, ctx.business_id, staff_ids=staff_ids, resource_ids=resource_ids, dates=dates, period=period
    )


async def replace_weekly_schedule(
    session: AsyncSession, ctx: BusinessContext, owner: ScheduleOwner, schedule: WeeklySchedule
) -> WeeklySchedule:
    await access_owner(session, ctx, owner)
    issues = check_weekly(schedule.hours, schedule.breaks)
    if issues:
        raise ValidationFailed("The weekly schedule is invalid.", issues=issues)
    await repository.replace_weekly_intervals(session, ctx.business_id, owner, schedule)
    await _audit(session, ctx, "hours.replaced", owner, {"schedule": schedule.sorted()})
    return schedule.sorted()


def _span(row: WeeklyInterval | DateOverrideInterval) -> Span:
    return Span(from_db_time(row.start_time, is_end=False), from_db_time(row.end_time, is_end=True))


async def check_may_manage_time_off(
    session: AsyncSession, ctx: BusinessContext, owner: ScheduleOwner
) -> None:
    """Owners manage everyone's time off; a staff member only their own (their linked row)."""
    await access_owner(session, ctx, owner)
    if ctx.is_owner:
        return
    if owner.staff_id is not None:
        staff = await repository.get_staff(session, ctx.business_id, owner.staff_id)
        if staff is not None and staff.user_id == ctx.actor.user_id:
            return
    raise InsufficientRole("Only an owner, or the staff member themself, may change this time off.")


@dataclass(frozen=True, slots=True)
class Period:
    starts_at: datetime
    ends_at: datetime
    reason: str = ""


async def list_time_off(
    session: AsyncSession, ctx: BusinessContext, owner: ScheduleOwner, *, cursor: str | None, limit: int
) -> tuple[list[TimeOff], str | None]:
    await access_owner(session, ctx, owner)
    return await repository.time_off_page(session, ctx.business_id, owner, cursor=cursor, limit=limit)


async def get_time_off(
    session: AsyncSession, ctx: BusinessContext, owner: ScheduleOwner, time_off_id: uuid.UUID
) -> TimeOff:
    await access_owner(session, ctx, owner)
    time_off = await repository.get_time_off(session, ctx.business_id, owner, time_off_id)
    if time_off is None:
        raise TimeOffNotFound("No such time off.")
    return time_off


async def create_time_off(
    session: AsyncSession, ctx: BusinessContext, owner: ScheduleOwner, period: Period
) -> TimeOff:
    await check_may_manage_time_off(session, ctx, owner)
    _check_period(period)
    time_off = TimeOff(business_id=ctx.business_id, id=uuid.uuid4(), **owner.columns())
    _write_period(time_off, period)
    session.add(time_off)
    await session.flush()
    await _audit(session, ctx, "time_off.created", owner, _period_details(time_off))
    return time_off


async def replace_time_off(
    session: AsyncSession, ctx: BusinessContext, owner: ScheduleOwner, time_off_id: uuid.UUID, period: Period
) -> TimeOff:
    await check_may_manage_time_off(session, ctx, owner)
    _check_period(period)
    time_off = await get_time_off(session, ctx, owner, time_off_id)
    _write_period(time_off, period)
    await session.flush()
    await _audit(session, ctx, "time_off.replaced", owner, _period_details(time_off))
    return time_off


async def delete_time_off(
    session: AsyncSession, ctx: BusinessContext, owner: ScheduleOwner, time_off_id: uuid.UUID
) -> None:
    await check_may_manage_time_off(session, ctx, owner)
    time_off = await get_time_off(session, ctx, owner, time_off_id)
    await session.delete(time_off)
    await session.flush()
    await _audit(session, ctx, "time_off.deleted", owner, _period_details(time_off))


def _check_period(period: Period) -> None:
    issues = check_period(period.starts_at, period.ends_at)
    if issues:
        raise ValidationFailed("The time off is invalid.", issues=issues)


def _write_period(time_off: TimeOff, period: Period) -> None:
    # Stored and answered in UTC, whatever offset the client sent.
    time_off.starts_at = period.starts_at.astimezone(UTC)
    time_off.ends_at = period.ends_at.astimezone(UTC)
    time_off.reason = period.reason


@dataclass(frozen=True, slots=True)
class OverrideView:
    row: DateOverride
    hours: list[Span]


async def list_overrides(
    session: AsyncSession,
    ctx: BusinessContext,
    owner: ScheduleOwner,
    *,
    between: tuple[date | None, date | None],
    cursor: str | None,
    limit: int,
) -> tuple[list[OverrideView], str | None]:
    await access_owner(session, ctx, owner)
    rows, next_cursor = await repository.overrides_page(
        session, ctx.business_id, owner, from_date=between[0], to_date=between[1], cursor=cursor, limit=limit
    )
    hours = await repository.override_intervals(session, ctx.business_id, [r.id for r in rows])
    return [OverrideView(r, [_span(i) for i in hours.get(r.id, [])]) for r in rows], next_cursor


async def get_override(
    session: AsyncSession, ctx: BusinessContext, owner: ScheduleOwner, override_id: uuid.UUID
) -> OverrideView:
    row = await _require_override(session, ctx, owner, override_id)
    hours = await repository.override_intervals(session, ctx.business_id, [row.id])
    return OverrideView(row, [_span(i) for i in hours.get(row.id, [])])


async def create_override(
    session: AsyncSession, ctx: BusinessContext, owner: ScheduleOwner, override: DayOverride
) -> OverrideView:
    await access_owner(session, ctx, owner)
    _check_override(override)
    await _check_date_free(session, ctx, owner, override.override_date, keep=None)
    row = DateOverride(business_id=ctx.business_id, id=uuid.uuid4(), **owner.columns())
    row.override_date, row.closed = override.override_date, override.closed
    session.add(row)
    await _flush_override(session)
    await repository.replace_override_intervals(session, ctx.business_id, row.id, override.hours)
    await _audit(session, ctx, "date_override.created", owner, {"override": override})
    return OverrideView(row, list(override.hours))


async def replace_override(
    session: AsyncSession,
    ctx: BusinessContext,
    owner: ScheduleOwner,
    override_id: uuid.UUID,
    override: DayOverride,
) -> OverrideView:
    row = await _require_override(session, ctx, owner, override_id)
    _check_override(override)
    await _check_date_free(session, ctx, owner, override.override_date, keep=row.id)
    row.override_date, row.closed = override.override_date, override.closed
    await _flush_override(session)
    await repository.replace_override_intervals(session, ctx.business_id, row.id, override.hours)
    await _audit(session, ctx, "date_override.replaced", owner, {"override": override})
    return OverrideView(row, list(override.hours))


# Dates one "special hours" entry may cover: a Ramadan, a summer, with room to spare.
MAX_SPECIAL_DAYS = 62


async def set_dates(
    session: AsyncSession,
    ctx: BusinessContext,
    owner: ScheduleOwner,
    first: date,
    last: date,
    *,
    closed: bool,
    hours: list[Span],
) -> int:
    """The same hours (or closed) on every date of [first, last]: a Ramadan or summer
    schedule in one go. A date that had its own hours takes these; returns the dates set."""
    days = (last - first).days + 1
    if not 1 <= days <= MAX_SPECIAL_DAYS:
        raise ValidationFailed.on(
            "form.to", "valid_window", f"Give 1 to {MAX_SPECIAL_DAYS} days, first to last."
        )
    existing, _ = await list_overrides(session, ctx, owner, between=(first, last), cursor=None, limit=days)
    by_date = {view.row.override_date: view.row.id for view in existing}
    for offset in range(days):
        day = first + timedelta(days=offset)
        override = DayOverride(day, closed, list(hours))
        if day in by_date:
            await replace_override(session, ctx, owner, by_date[day], override)
        else:
            await create_override(session, ctx, owner, override)
    return days


async def delete_override(
    session: AsyncSession, ctx: BusinessContext, owner: ScheduleOwner, override_id: uuid.UUID
) -> None:
    row = await _require_override(session, ctx, owner, override_id)
    await session.delete(row)
    await session.flush()
    await _audit(session, ctx, "date_override.deleted", owner, {"date": row.override_date})


async def _require_override(
    session: AsyncSession, ctx: BusinessContext, owner: ScheduleOwner, override_id: uuid.UUID
) -> DateOverride:
    await access_owner(session, ctx, owner)
    row = await repository.get_override(session, ctx.business_id, owner, override_id)
    if row is None:
        raise DateOverrideNotFound("No such date override.")
    return row


def _check_override(override: DayOverride) -> None:
    issues = check_override(override)
    if issues:
        raise ValidationFailed("The date override is invalid.", issues=issues)


async def _check_date_free(
    session: AsyncSession, ctx: BusinessContext, owner: ScheduleOwner, on: date, *, keep: uuid.UUID | None
) -> None:
    existing = await repository.override_on(session, ctx.business_id, owner, on)
    if existing is not None and existing.id != keep:
        raise DateOverrideExists(
            f"There is already an override on {on.isoformat()}; change or delete it.",
            extra={"existing_id": str(existing.id)},
        )


async def _flush_override(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent request took the date first
        raise DateOverrideExists("There is already an override on this date.") from exc


def _period_details(time_off: TimeOff) -> dict[str, object]:
    return {"starts_at": time_off.starts_at, "ends_at": time_off.ends_at, "reason": time_off.reason}


async def _audit(
    session: AsyncSession, ctx: BusinessContext, action: str, owner: ScheduleOwner, details: dict[str, object]
) -> None:
    """Schedule changes are recorded against their owner (a staff member, a resource or the
    business itself)."""
    subject = (owner.kind.value, owner.id or ctx.business_id)
    await audit.record(session, ctx.business_id, ctx.actor.user_id, action, subject=subject, details=details)
