"""The schedules of a business, its staff members and its resources: weekly hours, date
overrides and time off, the same routes for each kind of owner (one factory per group,
mounted under each owner's prefix). Schedules are read by staff and written by owners,
except that staff members manage their own time off.

No `from __future__ import annotations` here: the routes are built by factories whose
dependency aliases are local, and FastAPI resolves string annotations only against module
globals.
"""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status
from fastapi.routing import APIRoute

from booklnk.api.created import CreatedDep
from booklnk.api.deps import OwnerCtx, SessionDep, StaffCtx
from booklnk.api.pagination import CursorQuery, LimitQuery, Page
from booklnk.api.problems import problem_responses
from booklnk.api.routes.catalog import DELETE, LIST, READ, WRITE, ResourceId, StaffId
from booklnk.catalog import schedules
from booklnk.catalog.owner import ScheduleOwner
from booklnk.catalog.schemas import (
    CalendarDate,
    DateOverrideBody,
    DateOverrideOut,
    DayInterval,
    TimeOffBody,
    TimeOffOut,
    WeeklyScheduleBody,
)

router = APIRouter(prefix="/v1/businesses/{business_id}", tags=["catalog"])


async def _business_owner() -> ScheduleOwner:
    return ScheduleOwner.business()


async def _staff_owner(staff_id: StaffId) -> ScheduleOwner:
    return ScheduleOwner.staff(staff_id)


async def _resource_owner(resource_id: ResourceId) -> ScheduleOwner:
    return ScheduleOwner.resource(resource_id)


@dataclass(frozen=True)
class _OwnerRoutes:
    """The schedule routes of one kind of owner, mounted under `prefix`."""

    prefix: str
    kind: str  # names its operations apart: business_get_weekly_schedule, staff_…
    whose: str  # e.g. "the business's", for summaries
    missing: str  # the problem code when the owner is not in this business
    owner: Callable[..., Awaitable[ScheduleOwner]]  # a dependency: `async`, so it runs on the loop
    time_off: bool


OWNERS = (
    _OwnerRoutes("", "business", "the business's", "business_not_found", _business_owner, time_off=False),
    _OwnerRoutes(
        "/staff/{staff_id}", "staff", "a staff member's", "staff_not_found", _staff_owner, time_off=True
    ),
    _OwnerRoutes(
        "/resources/{resource_id}",
        "resource",
        "a resource's",
        "resource_not_found",
        _resource_owner,
        time_off=True,
    ),
)


def _weekly_routes(spec: _OwnerRoutes) -> APIRouter:
    routes = APIRouter()
    owner_dep = Annotated[ScheduleOwner, Depends(spec.owner)]

    @routes.get(
        "/weekly-schedule",
        summary=f"Get {spec.whose} weekly hours and breaks",
        description=f"Staff and owners (403 `insufficient_role` for customers). The recurring `hours` and "
        f"`breaks` of {spec.whose} week by weekday, local HH:MM in the business's time zone. "
        f"404 `{spec.missing}`.",
        response_model=WeeklyScheduleBody,
        responses=READ,
    )
    async def get_weekly_schedule(owner: owner_dep, ctx: StaffCtx, session: SessionDep) -> WeeklyScheduleBody:
        return WeeklyScheduleBody.of(await schedules.get_weekly_schedule(session, ctx, owner))

    @routes.put(
        "/weekly-schedule",
        summary=f"Replace {spec.whose} weekly hours and breaks",
        description="Times are local wall-clock HH:MM in the business's time zone; 24:00 ends a day. "
        "Intervals on one weekday may not overlap; each break lies inside working hours.",
        response_model=WeeklyScheduleBody,
        responses=WRITE,
    )
    async def replace_weekly_schedule(
        body: WeeklyScheduleBody, owner: owner_dep, ctx: OwnerCtx, session: SessionDep
    ) -> WeeklyScheduleBody:
        schedule = await schedules.replace_weekly_schedule(session, ctx, owner, body.to_domain())
        return WeeklyScheduleBody.of(schedule)

    return routes


def _override_out(view: schedules.OverrideView) -> DateOverrideOut:
    return DateOverrideOut(
        id=view.row.id,
        date=view.row.override_date,
        closed=view.row.closed,
        hours=[DayInterval.of(span) for span in view.hours],
    )


OverrideId = Annotated[uuid.UUID, Path(description="A date override.")]
# Bounded to the supported years like the dates of the bodies (a query is still lax: text).
FromDate = Annotated[CalendarDate | None, Query(description="Only overrides on or after this local date.")]
ToDate = Annotated[CalendarDate | None, Query(description="Only overrides on or before this local date.")]
CONFLICTING_WRITE = problem_responses(401, 403, 404, 409, 422)


def _override_reads(spec: _OwnerRoutes) -> APIRouter:
    routes = APIRouter(prefix="/date-overrides")
    owner_dep = Annotated[ScheduleOwner, Depends(spec.owner)]

    @routes.get(
        "",
        summary=f"List {spec.whose} date overrides",
        description=f"Staff and owners. The overrides of {spec.whose} days by date, `from_date` and "
        "`to_date` both inclusive; `next_cursor` opens the next page (`limit` 1-200, default 50). "
        f"404 `{spec.missing}`.",
        response_model=Page[DateOverrideOut],
        responses=LIST,
    )
    async def list_date_overrides(
        owner: owner_dep,
        ctx: StaffCtx,
        session: SessionDep,
        from_date: FromDate = None,
        to_date: ToDate = None,
        cursor: CursorQuery = None,
        limit: LimitQuery = 50,
    ) -> Page[DateOverrideOut]:
        views, next_cursor = await schedules.list_overrides(
            session, ctx, owner, between=(from_date, to_date), cursor=cursor, limit=limit
        )
        return Page(items=[_override_out(v) for v in views], next_cursor=next_cursor)

    @routes.get(
        "/{override_id}",
        summary=f"Get one of {spec.whose} date overrides",
        description=f"Staff and owners. 404 `date_override_not_found` when the id is not one of {spec.whose} "
        f"overrides; 404 `{spec.missing}`.",
        response_model=DateOverrideOut,
        responses=READ,
    )
    async def get_date_override(
        override_id: OverrideId, owner: owner_dep, ctx: StaffCtx, session: SessionDep
    ) -> DateOverrideOut:
        return _override_out(await schedules.get_override(session, ctx, owner, override_id))

    return routes


def _override_writes(spec: _OwnerRoutes) -> APIRouter:
    routes = APIRouter(prefix="/date-overrides")
    owner_dep = Annotated[ScheduleOwner, Depends(spec.owner)]

    @routes.post(
        "",
        summary=f"Close {spec.whose} day or give it special hours",
        description="One override per date: a second one on the same date answers 409 "
        "`date_override_exists`.",
        status_code=status.HTTP_201_CREATED,
        response_model=DateOverrideOut,
        responses=CONFLICTING_WRITE,
    )
    async def create_date_override(
        body: DateOverrideBody, owner: owner_dep, ctx: OwnerCtx, session: SessionDep, created: CreatedDep
    ) -> DateOverrideOut:
        override = await schedules.create_override(session, ctx, owner, body.to_domain())
        created.at_key(override.row.id)
        return _override_out(override)

    @routes.put(
        "/{override_id}",
        summary=f"Replace one of {spec.whose} date overrides",
        description="Owners only. Its date, `closed` and `hours` are replaced (hours may not overlap, "
        f"nor be given on a closed day: 422); a date that has another of {spec.whose} overrides answers 409 "
        "`date_override_exists` with its `existing_id`. 404 `date_override_not_found`.",
        response_model=DateOverrideOut,
        responses=CONFLICTING_WRITE,
    )
    async def replace_date_override(
        override_id: OverrideId, body: DateOverrideBody, owner: owner_dep, ctx: OwnerCtx, session: SessionDep
    ) -> DateOverrideOut:
        return _override_out(
            await schedules.replace_override(session, ctx, owner, override_id, body.to_domain())
        )

    @routes.delete(
        "/{override_id}",
        summary=f"Delete one of {spec.whose} date overrides",
        description=f"Owners only. The date follows {spec.whose} weekly hours and breaks again. "
        "404 `date_override_not_found`.",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=DELETE,
    )
    async def delete_date_override(
        override_id: OverrideId, owner: owner_dep, ctx: OwnerCtx, session: SessionDep
    ) -> None:
        await schedules.delete_override(session, ctx, owner, override_id)

    return routes


TimeOffId = Annotated[uuid.UUID, Path(description="A period of time off.")]
SELF_SERVICE = (
    "Owners manage anyone's time off; a staff member may manage their own (the staff row linked to them)."
)


def _time_off_reads(spec: _OwnerRoutes) -> APIRouter:
    routes = APIRouter(prefix="/time-off")
    owner_dep = Annotated[ScheduleOwner, Depends(spec.owner)]

    @routes.get(
        "",
        summary=f"List {spec.whose} time off",
        description=f"Staff and owners. The periods of time off of {spec.whose} calendar by start; "
        f"`next_cursor` opens the next page (`limit` 1-200, default 50). 404 `{spec.missing}`.",
        response_model=Page[TimeOffOut],
        responses=LIST,
    )
    async def list_time_off(
        owner: owner_dep,
        ctx: StaffCtx,
        session: SessionDep,
        cursor: CursorQuery = None,
        limit: LimitQuery = 50,
    ) -> Page[TimeOffOut]:
        rows, next_cursor = await schedules.list_time_off(session, ctx, owner, cursor=cursor, limit=limit)
        return Page(items=[TimeOffOut.model_validate(r) for r in rows], next_cursor=next_cursor)

    @routes.get(
        "/{time_off_id}",
        summary=f"Get {spec.whose} time off",
        description=f"Staff and owners. 404 `time_off_not_found` when the id is not one of {spec.whose} "
        f"periods of time off; 404 `{spec.missing}`.",
        response_model=TimeOffOut,
        responses=READ,
    )
    async def get_time_off(
        time_off_id: TimeOffId, owner: owner_dep, ctx: StaffCtx, session: SessionDep
    ) -> TimeOffOut:
        return TimeOffOut.model_validate(await schedules.get_time_off(session, ctx, owner, time_off_id))

    return routes


def _time_off_writes(spec: _OwnerRoutes) -> APIRouter:
    """Guarded by StaffCtx only: the use case admits owners, and staff for their own row."""
    routes = APIRouter(prefix="/time-off")
    owner_dep = Annotated[ScheduleOwner, Depends(spec.owner)]

    @routes.post(
        "",
        summary=f"Add {spec.whose} time off",
        description=SELF_SERVICE,
        status_code=status.HTTP_201_CREATED,
        response_model=TimeOffOut,
        responses=WRITE,
    )
    async def create_time_off(
        body: TimeOffBody, owner: owner_dep, ctx: StaffCtx, session: SessionDep, created: CreatedDep
    ) -> TimeOffOut:
        period = schedules.Period(body.starts_at, body.ends_at, body.reason)
        time_off = await schedules.create_time_off(session, ctx, owner, period)
        created.at_key(time_off.id)
        return TimeOffOut.model_validate(time_off)

    @routes.put(
        "/{time_off_id}",
        summary=f"Replace {spec.whose} time off",
        description=SELF_SERVICE,
        response_model=TimeOffOut,
        responses=WRITE,
    )
    async def replace_time_off(
        time_off_id: TimeOffId, body: TimeOffBody, owner: owner_dep, ctx: StaffCtx, session: SessionDep
    ) -> TimeOffOut:
        period = schedules.Period(body.starts_at, body.ends_at, body.reason)
        return TimeOffOut.model_validate(
            await schedules.replace_time_off(session, ctx, owner, time_off_id, period)
        )

    @routes.delete(
        "/{time_off_id}",
        summary=f"Delete {spec.whose} time off",
        description=SELF_SERVICE,
        status_code=status.HTTP_204_NO_CONTENT,
        responses=DELETE,
    )
    async def delete_time_off(
        time_off_id: TimeOffId, owner: owner_dep, ctx: StaffCtx, session: SessionDep
    ) -> None:
        await schedules.delete_time_off(session, ctx, owner, time_off_id)

    return routes


def _mount_schedules(parent: APIRouter) -> None:
    for spec in OWNERS:
        factories = [_weekly_routes, _override_reads, _override_writes]
        factories += [_time_off_reads, _time_off_writes] if spec.time_off else []
        for factory in factories:
            routes = factory(spec)
            for route in routes.routes:  # one name per operation (its OpenAPI operationId)
                if isinstance(route, APIRoute):
                    route.name = f"{spec.kind}_{route.name}"
            parent.include_router(routes, prefix=spec.prefix)


_mount_schedules(router)
