"""All SQL of the catalog domain. Every query is scoped by business_id (RLS is the second wall)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import date

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    delete,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.catalog.models import (
    DateOverride,
    DateOverrideInterval,
    IntervalKind,
    Resource,
    Service,
    ServiceStaff,
    StaffMember,
    TimeOff,
    WeeklyInterval,
)
from booklnk.catalog.owner import ScheduleOwner
from booklnk.catalog.schedule_rules import (
    Span,
    WeeklySchedule,
    to_db_time,
)
from booklnk.db.pagination import fetch_page


async def get_service(session: AsyncSession, business_id: uuid.UUID, service_id: uuid.UUID) -> Service | None:
    return await session.get(Service, (business_id, service_id))


def _service_with_staff(*, one: bool) -> Select[Service, StaffMember]:
    performs = [ServiceStaff.business_id == Service.business_id, ServiceStaff.service_id == Service.id]
    if one:
        performs.append(ServiceStaff.staff_id == bindparam("staff_id"))
    return (
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
        .where(Service.business_id == bindparam("business_id"), Service.id == bindparam("service_id"))
        .order_by(StaffMember.display_name, StaffMember.id)
    )


# Built once: on the booking and availability paths, building a statement each time cost
# more than running it.
_SERVICE_WITH_ALL_STAFF = _service_with_staff(one=False)
_SERVICE_WITH_ONE_STAFF = _service_with_staff(one=True)


async def service_with_staff(
    session: AsyncSession, business_id: uuid.UUID, service_id: uuid.UUID, *, staff_id: uuid.UUID | None
) -> tuple[Service | None, list[StaffMember]]:
    """In one query: the service, and the active staff members who perform it (only
    `staff_id`, when given) by display name. (None, []) when there is no such service."""
    params = {"business_id": business_id, "service_id": service_id}
    if staff_id is None:
        rows = (await session.execute(_SERVICE_WITH_ALL_STAFF, params)).all()
    else:
        rows = (await session.execute(_SERVICE_WITH_ONE_STAFF, {**params, "staff_id": staff_id})).all()
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


async def active_staff_ids(
    session: AsyncSession, business_id: uuid.UUID, staff_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    stmt = select(StaffMember.id).where(
        StaffMember.business_id == business_id, StaffMember.id.in_(staff_ids), StaffMember.active.is_(True)
    )
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
