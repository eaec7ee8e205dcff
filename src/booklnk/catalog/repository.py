"""All SQL of the catalog domain. Every query is scoped by business_id (RLS is the second wall)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, Uuid, and_, any_, cast, delete, insert, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.catalog.models import (
    DateOverride,
    DateOverrideInterval,
    IntervalKind,
    OwnerKind,
    Resource,
    Service,
    ServiceStaff,
    StaffMember,
    TimeOff,
    WeeklyInterval,
)
from booklnk.catalog.owner import ScheduleOwner
from booklnk.catalog.schedule_rules import (
    DayOverride,
    Span,
    WeeklySchedule,
    WeeklySpan,
    from_db_time,
    to_db_time,
)
from booklnk.db.pagination import fetch_page


async def get_service(session: AsyncSession, business_id: uuid.UUID, service_id: uuid.UUID) -> Service | None:
    return await session.get(Service, (business_id, service_id))


async def service_with_staff(
    session: AsyncSession, business_id: uuid.UUID, service_id: uuid.UUID, *, staff_id: uuid.UUID | None
) -> tuple[Service | None, list[StaffMember]]:
    """In one query: the service, and the active staff members who perform it (only
    `staff_id`, when given) by display name. (None, []) when there is no such service."""
    performs = [ServiceStaff.business_id == Service.business_id, ServiceStaff.service_id == Service.id]
    if staff_id is not None:
        performs.append(ServiceStaff.staff_id == staff_id)
    stmt = (
        select(Service, StaffMember)
        .outerjoin(ServiceStaff, and_(*performs))
        .outerjoin(
            StaffMember,
            and_(
                StaffMember.business_id == ServiceStaff.business_id,
                StaffMember.id == ServiceStaff.staff_id,
                StaffMember.active.is_(True),
            ),
        )
        .where(Service.business_id == business_id, Service.id == service_id)
        .order_by(StaffMember.display_name, StaffMember.id)
    )
    rows = (await session.execute(stmt)).all()
    if not rows:
        return None, []
    return rows[0][0], [staff for _, staff in rows if staff is not None]


async def services_page(
    session: AsyncSession, business_id: uuid.UUID, *, active_only: bool, cursor: str | None, limit: int
) -> tuple[list[Service], str | None]:
    stmt = select(Service).where(Service.business_id == business_id)
    if active_only:
        stmt = stmt.where(Service.active)
    return await fetch_page(session, stmt, order_by=[Service.name, Service.id], cursor=cursor, limit=limit)


async def staff_ids_by_service(
    session: AsyncSession, business_id: uuid.UUID, service_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The staff of many services in one query (no N+1 over a page)."""
    stmt = (
        select(ServiceStaff.service_id, ServiceStaff.staff_id)
        .where(ServiceStaff.business_id == business_id, ServiceStaff.service_id.in_(service_ids))
        .order_by(ServiceStaff.service_id, ServiceStaff.staff_id)
    )
    found: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for service_id, staff_id in (await session.execute(stmt)).all():
        found[service_id].append(staff_id)
    return found


async def set_service_staff(
    session: AsyncSession, business_id: uuid.UUID, service_id: uuid.UUID, staff_ids: Sequence[uuid.UUID]
) -> None:
    await session.execute(
        delete(ServiceStaff).where(
            ServiceStaff.business_id == business_id, ServiceStaff.service_id == service_id
        )
    )
    if staff_ids:
        rows = [{"business_id": business_id, "service_id": service_id, "staff_id": s} for s in staff_ids]
        await session.execute(insert(ServiceStaff), rows)


async def existing_staff_ids(
    session: AsyncSession, business_id: uuid.UUID, staff_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    stmt = select(StaffMember.id).where(StaffMember.business_id == business_id, StaffMember.id.in_(staff_ids))
    return set((await session.execute(stmt)).scalars())


async def get_staff(session: AsyncSession, business_id: uuid.UUID, staff_id: uuid.UUID) -> StaffMember | None:
    return await session.get(StaffMember, (business_id, staff_id))


async def get_staff_by_user(
    session: AsyncSession, business_id: uuid.UUID, user_id: uuid.UUID
) -> StaffMember | None:
    stmt = select(StaffMember).where(StaffMember.business_id == business_id, StaffMember.user_id == user_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def staff_page(
    session: AsyncSession, business_id: uuid.UUID, *, active_only: bool, cursor: str | None, limit: int
) -> tuple[list[StaffMember], str | None]:
    stmt = select(StaffMember).where(StaffMember.business_id == business_id)
    if active_only:
        stmt = stmt.where(StaffMember.active)
    order = [StaffMember.display_name, StaffMember.id]
    return await fetch_page(session, stmt, order_by=order, cursor=cursor, limit=limit)


async def get_resource(
    session: AsyncSession, business_id: uuid.UUID, resource_id: uuid.UUID
) -> Resource | None:
    return await session.get(Resource, (business_id, resource_id))


async def resources_page(
    session: AsyncSession, business_id: uuid.UUID, *, active_only: bool, cursor: str | None, limit: int
) -> tuple[list[Resource], str | None]:
    stmt = select(Resource).where(Resource.business_id == business_id)
    if active_only:
        stmt = stmt.where(Resource.active)
    return await fetch_page(session, stmt, order_by=[Resource.name, Resource.id], cursor=cursor, limit=limit)


def _owned_by(
    model: type[WeeklyInterval] | type[TimeOff] | type[DateOverride],
    business_id: uuid.UUID,
    owner: ScheduleOwner,
) -> list[ColumnElement[bool]]:
    """The rows of one owner; the one_owner CHECK makes the kind and the id sufficient."""
    clauses = [model.business_id == business_id, model.owner_kind == owner.kind.value]
    if owner.staff_id is not None:
        clauses.append(model.staff_id == owner.staff_id)
    if owner.resource_id is not None:
        clauses.append(model.resource_id == owner.resource_id)
    return clauses


async def weekly_intervals(
    session: AsyncSession, business_id: uuid.UUID, owner: ScheduleOwner
) -> Sequence[WeeklyInterval]:
    stmt = select(WeeklyInterval).where(*_owned_by(WeeklyInterval, business_id, owner))
    return (await session.execute(stmt)).scalars().all()


async def replace_weekly_intervals(
    session: AsyncSession, business_id: uuid.UUID, owner: ScheduleOwner, schedule: WeeklySchedule
) -> None:
    await session.execute(delete(WeeklyInterval).where(*_owned_by(WeeklyInterval, business_id, owner)))
    rows = [
        {
            "business_id": business_id,
            "id": uuid.uuid4(),
            **owner.columns(),
            "kind": kind.value,
            "weekday": weekly.weekday,
            "start_time": to_db_time(weekly.span.start),
            "end_time": to_db_time(weekly.span.end),
        }
        for kind, spans in ((IntervalKind.HOURS, schedule.hours), (IntervalKind.BREAK, schedule.breaks))
        for weekly in spans
    ]
    if rows:
        await session.execute(insert(WeeklyInterval), rows)


async def get_time_off(
    session: AsyncSession, business_id: uuid.UUID, owner: ScheduleOwner, time_off_id: uuid.UUID
) -> TimeOff | None:
    stmt = select(TimeOff).where(*_owned_by(TimeOff, business_id, owner), TimeOff.id == time_off_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def time_off_page(
    session: AsyncSession, business_id: uuid.UUID, owner: ScheduleOwner, *, cursor: str | None, limit: int
) -> tuple[list[TimeOff], str | None]:
    stmt = select(TimeOff).where(*_owned_by(TimeOff, business_id, owner))
    return await fetch_page(
        session, stmt, order_by=[TimeOff.starts_at, TimeOff.id], cursor=cursor, limit=limit
    )


async def get_override(
    session: AsyncSession, business_id: uuid.UUID, owner: ScheduleOwner, override_id: uuid.UUID
) -> DateOverride | None:
    stmt = select(DateOverride).where(
        *_owned_by(DateOverride, business_id, owner), DateOverride.id == override_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def override_on(
    session: AsyncSession, business_id: uuid.UUID, owner: ScheduleOwner, on: date
) -> DateOverride | None:
    stmt = select(DateOverride).where(
        *_owned_by(DateOverride, business_id, owner), DateOverride.override_date == on
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def _overrides_between(
    business_id: uuid.UUID, owner: ScheduleOwner, from_date: date | None, to_date: date | None
) -> Select[DateOverride]:
    stmt = select(DateOverride).where(*_owned_by(DateOverride, business_id, owner))
    if from_date is not None:
        stmt = stmt.where(DateOverride.override_date >= from_date)
    if to_date is not None:
        stmt = stmt.where(DateOverride.override_date <= to_date)
    return stmt


async def overrides_page(
    session: AsyncSession,
    business_id: uuid.UUID,
    owner: ScheduleOwner,
    *,
    from_date: date | None,
    to_date: date | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[DateOverride], str | None]:
    stmt = _overrides_between(business_id, owner, from_date, to_date)
    order = [DateOverride.override_date, DateOverride.id]
    return await fetch_page(session, stmt, order_by=order, cursor=cursor, limit=limit)


async def override_intervals(
    session: AsyncSession, business_id: uuid.UUID, override_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[DateOverrideInterval]]:
    """The special hours of many overrides in one query."""
    stmt = (
        select(DateOverrideInterval)
        .where(
            DateOverrideInterval.business_id == business_id,
            DateOverrideInterval.override_id.in_(override_ids),
        )
        .order_by(DateOverrideInterval.override_id, DateOverrideInterval.position)
    )
    found: dict[uuid.UUID, list[DateOverrideInterval]] = defaultdict(list)
    for row in (await session.execute(stmt)).scalars():
        found[row.override_id].append(row)
    return found


async def replace_override_intervals(
    session: AsyncSession, business_id: uuid.UUID, override_id: uuid.UUID, spans: Sequence[Span]
) -> None:
    await session.execute(
        delete(DateOverrideInterval).where(
            DateOverrideInterval.business_id == business_id, DateOverrideInterval.override_id == override_id
        )
    )
    rows = [
        {
            "business_id": business_id,
            "override_id": override_id,
            "position": position,
            "start_time": to_db_time(span.start),
            "end_time": to_db_time(span.end),
        }
        for position, span in enumerate(spans)
    ]
    if rows:
        await session.execute(insert(DateOverrideInterval), rows)


# ---------------------------------------------------------------------------- calendars

OwnerRef = tuple[str, uuid.UUID | None]
"""("business", None) | ("staff", id) | ("resource", id)."""


@dataclass
class OwnerSchedule:
    """One owner's schedule rows over a window: its week, the overrides on the window's
    dates and the time off overlapping it (UTC (start, end) pairs)."""

    week: WeeklySchedule = field(default_factory=WeeklySchedule)
    overrides: list[DayOverride] = field(default_factory=list)
    time_off: list[tuple[datetime, datetime]] = field(default_factory=list)


async def owner_schedules(
    session: AsyncSession,
    business_id: uuid.UUID,
    *,
    staff_ids: Collection[uuid.UUID],
    resource_ids: Collection[uuid.UUID],
    dates: tuple[date, date],
    period: tuple[datetime, datetime],
) -> dict[OwnerRef, OwnerSchedule]:
    """The schedules of the business itself and of the given staff and resources only (not
    every owner of the business), read as plain columns: three queries whatever the
    number of owners. Owners without rows are absent."""
    found: dict[OwnerRef, OwnerSchedule] = defaultdict(OwnerSchedule)
    for owner_kind, staff_id, resource_id, kind, weekday, start, end in await session.execute(
        select(
            WeeklyInterval.owner_kind,
            WeeklyInterval.staff_id,
            WeeklyInterval.resource_id,
            WeeklyInterval.kind,
            WeeklyInterval.weekday,
            WeeklyInterval.start_time,
            WeeklyInterval.end_time,
        ).where(*_of_owners(WeeklyInterval, business_id, staff_ids, resource_ids))
    ):
        week = found[_owner(owner_kind, staff_id, resource_id)].week
        target = week.hours if kind == IntervalKind.HOURS else week.breaks
        target.append(WeeklySpan(weekday, _db_span(start, end)))
    await _add_overrides(session, business_id, staff_ids, resource_ids, dates, found)
    stmt = select(
        TimeOff.owner_kind, TimeOff.staff_id, TimeOff.resource_id, TimeOff.starts_at, TimeOff.ends_at
    ).where(
        *_of_owners(TimeOff, business_id, staff_ids, resource_ids),
        TimeOff.starts_at < period[1],
        TimeOff.ends_at > period[0],
    )
    for owner_kind, staff_id, resource_id, starts_at, ends_at in await session.execute(stmt):
        found[_owner(owner_kind, staff_id, resource_id)].time_off.append((starts_at, ends_at))
    return dict(found)


async def _add_overrides(
    session: AsyncSession,
    business_id: uuid.UUID,
    staff_ids: Collection[uuid.UUID],
    resource_ids: Collection[uuid.UUID],
    dates: tuple[date, date],
    found: dict[OwnerRef, OwnerSchedule],
) -> None:
    stmt = (
        select(
            DateOverride.id,
            DateOverride.owner_kind,
            DateOverride.staff_id,
            DateOverride.resource_id,
            DateOverride.override_date,
            DateOverride.closed,
            DateOverrideInterval.start_time,
            DateOverrideInterval.end_time,
        )
        .outerjoin(
            DateOverrideInterval,
            and_(
                DateOverrideInterval.business_id == DateOverride.business_id,
                DateOverrideInterval.override_id == DateOverride.id,
            ),
        )
        .where(
            *_of_owners(DateOverride, business_id, staff_ids, resource_ids),
            DateOverride.override_date.between(*dates),
        )
        .order_by(DateOverride.id, DateOverrideInterval.position)
    )
    overrides: dict[uuid.UUID, tuple[OwnerRef, DayOverride]] = {}
    for override_id, owner_kind, staff_id, resource_id, on, closed, start, end in await session.execute(stmt):
        if override_id not in overrides:
            overrides[override_id] = (_owner(owner_kind, staff_id, resource_id), DayOverride(on, closed, []))
        if start is not None:
            overrides[override_id][1].hours.append(_db_span(start, end))
    for owner, override in overrides.values():
        found[owner].overrides.append(override)


def _owner(kind: str, staff_id: uuid.UUID | None, resource_id: uuid.UUID | None) -> OwnerRef:
    # The one_owner CHECK: the kind says which id is set (none for the business).
    return (kind, staff_id or resource_id)


def _of_owners(
    model: type[WeeklyInterval] | type[TimeOff] | type[DateOverride],
    business_id: uuid.UUID,
    staff_ids: Collection[uuid.UUID],
    resource_ids: Collection[uuid.UUID],
) -> list[ColumnElement[bool]]:
    """The business's own rows and those of the given staff and resources (the one_owner
    CHECK makes the kind and the id sufficient); one array parameter per kind."""
    owners: list[ColumnElement[bool]] = [model.owner_kind == OwnerKind.BUSINESS.value]
    if staff_ids:
        owners.append(model.staff_id == any_(cast(list(staff_ids), ARRAY(Uuid))))
    if resource_ids:
        owners.append(model.resource_id == any_(cast(list(resource_ids), ARRAY(Uuid))))
    return [model.business_id == business_id, or_(*owners)]


def _db_span(start: object, end: object) -> Span:
    return Span(from_db_time(start, is_end=False), from_db_time(end, is_end=True))  # type: ignore[arg-type]
