"""An owner's hours: the business's weekly hours with breaks, each staff member's own
week, special dates and staff time off. Owners only, through the catalog's schedule use
cases; each form answers with this page again, its problem named by field (422) in the
reader's language, or goes back to the page it came from."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from booklnk.catalog import schedules
from booklnk.catalog import service as catalog
from booklnk.catalog.errors import StaffNotFound
from booklnk.catalog.models import StaffMember, TimeOff
from booklnk.catalog.owner import ScheduleOwner
from booklnk.kernel.errors import FieldIssue, ValidationFailed
from booklnk.tenancy.context import BusinessContext
from booklnk.tenancy.service import get_business
from booklnk.web import hours_form, rendering
from booklnk.web.guard import (
    FormDep,
    OwnerDep,
    SessionDep,
    WebRoute,
    language_of,
    now_of,
    parse_uuid,
    see_other,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE = "/desk/{business_id}/settings/hours"
STAFF_SHOWN = 100
SPECIAL_SHOWN = 100
# A member's time off is read oldest first: this many pages of it are searched for the
# upcoming ones, and this many upcoming are shown in all.
TIME_OFF_PAGES, TIME_OFF_PAGE = 5, 100
TIME_OFF_SHOWN = 100


@router.get(PAGE)
async def hours_page(
    request: Request, business_id: uuid.UUID, tx: SessionDep, ctx: OwnerDep, staff: str | None = None
) -> Response:
    return await _page(request, tx, ctx, chosen=parse_uuid(staff))


@router.post(PAGE + "/week")
async def save_week(
    request: Request, business_id: uuid.UUID, tx: SessionDep, posted: FormDep, ctx: OwnerDep
) -> Response:
    chosen = _member(posted)
    owner = ScheduleOwner.staff(chosen) if chosen else ScheduleOwner.business()
    try:
        await schedules.replace_weekly_schedule(tx, ctx, owner, hours_form.parse_week(posted))
    except ValidationFailed as refused:
        return await _refused(request, tx, ctx, "week", refused, posted, chosen)
    return see_other(_address(request, business_id, chosen) + "#week")


@router.post(PAGE + "/special")
async def add_special_dates(
    request: Request, business_id: uuid.UUID, tx: SessionDep, posted: FormDep, ctx: OwnerDep
) -> Response:
    try:
        await set_special_hours(tx, ctx, posted)
    except ValidationFailed as refused:
        return await _refused(request, tx, ctx, "special", refused, posted, None)
    return see_other(_address(request, business_id, None) + "#special")


@router.post(PAGE + "/special/delete")
async def delete_special_dates(
    request: Request, business_id: uuid.UUID, tx: SessionDep, posted: FormDep, ctx: OwnerDep
) -> Response:
    """Delete the business's special dates from `from` to `to` (one group as the page
    lists it: consecutive dates with the same hours)."""
    try:
        first, last = hours_form.parse_dates(posted)
        days = (last - first).days + 1
        if not 1 <= days <= SPECIAL_SHOWN:
            raise ValidationFailed.on("form.to", "valid_window", "Give the dates the page lists.")
    except ValidationFailed as refused:
        return await _refused(request, tx, ctx, "special", refused, posted, None)
    business = ScheduleOwner.business()
    found, _ = await schedules.list_overrides(
        tx, ctx, business, between=(first, last), cursor=None, limit=days
    )
    for view in found:
        await schedules.delete_override(tx, ctx, business, view.row.id)
    return see_other(_address(request, business_id, None) + "#special")


@router.post(PAGE + "/time-off")
async def add_time_off(
    request: Request, business_id: uuid.UUID, tx: SessionDep, posted: FormDep, ctx: OwnerDep
) -> Response:
    member = _member(posted)
    try:
        if member is None:
            raise ValidationFailed.on("form.staff", "required", "Choose a team member.")
        period = hours_form.parse_time_off(posted, ZoneInfo(ctx.time_zone))
        await schedules.create_time_off(tx, ctx, ScheduleOwner.staff(member), period)
    except ValidationFailed as refused:
        return await _refused(request, tx, ctx, "time_off", refused, posted, None)
    return see_other(_address(request, business_id, None) + "#time-off")


@router.post(PAGE + "/time-off/{time_off_id}/delete")
async def delete_time_off(
    request: Request,
    business_id: uuid.UUID,
    time_off_id: uuid.UUID,
    tx: SessionDep,
    posted: FormDep,
    ctx: OwnerDep,
) -> Response:
    member = _member(posted)
    if member is None:
        raise StaffNotFound("No such staff member.")
    await schedules.delete_time_off(tx, ctx, ScheduleOwner.staff(member), time_off_id)
    return see_other(_address(request, business_id, None) + "#time-off")


async def set_special_hours(tx: SessionDep, ctx: BusinessContext, posted: dict[str, str]) -> None:
    """The business's special hours (or closed) on every date from `from` to `to`; the
    first-run setup's form posts the same fields."""
    first, last = hours_form.parse_dates(posted)
    closed = posted.get("closed") == "on"
    hours = [] if closed else hours_form.parse_periods(posted)
    await schedules.set_dates(tx, ctx, ScheduleOwner.business(), first, last, closed=closed, hours=hours)


def problem_of(refused: ValidationFailed) -> FieldIssue:
    """The refusal's first issue (a use case's refusal without one names no field)."""
    return refused.issues[0] if refused.issues else FieldIssue("", "invalid", refused.detail)


async def _refused(
    request: Request,
    tx: SessionDep,
    ctx: BusinessContext,
    section: str,
    refused: ValidationFailed,
    posted: dict[str, str],
    chosen: uuid.UUID | None,
) -> Response:
    issue = problem_of(refused)
    return await _page(
        request,
        tx,
        ctx,
        chosen=chosen,
        errors={section: hours_form.problem(language_of(request), issue)},
        invalid=frozenset({issue.field.removeprefix("form.")}),
        posted=posted,
        status_code=422,
    )


async def _page(
    request: Request,
    tx: SessionDep,
    ctx: BusinessContext,
    *,
    chosen: uuid.UUID | None,
    errors: dict[str, str] | None = None,
    invalid: frozenset[str] = frozenset(),
    posted: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    language, errors, posted = language_of(request), errors or {}, posted or {}
    staff, _ = await catalog.list_staff(tx, ctx, catalog.Listing(limit=STAFF_SHOWN))
    member = await catalog.get_staff(tx, ctx, chosen) if chosen else None
    owner = ScheduleOwner.staff(member.id) if member else ScheduleOwner.business()
    week = await schedules.get_weekly_schedule(tx, ctx, owner)
    zone, now = ZoneInfo(ctx.time_zone), now_of(request)
    return rendering.page(
        request,
        language,
        "settings_hours.html",
        status_code=status_code,
        business=await get_business(tx, ctx.business_id),
        zone=ctx.time_zone,
        staff=staff,
        member=member,
        rows=(
            hours_form.posted_rows(posted, language)
            if "week" in errors
            else hours_form.week_rows(week, language)
        ),
        special=await _special_dates(tx, ctx, now.astimezone(zone).date(), language),
        time_off=await _upcoming_time_off(tx, ctx, staff, now),
        errors=errors,
        invalid=invalid,
        posted=posted,
        base=f"/{language}/desk/{ctx.business_id}",
    )


async def _special_dates(
    tx: SessionDep, ctx: BusinessContext, today: date, language: str
) -> list[hours_form.DateGroup]:
    found, _ = await schedules.list_overrides(
        tx, ctx, ScheduleOwner.business(), between=(today, None), cursor=None, limit=SPECIAL_SHOWN
    )
    return hours_form.group_dates([(v.row.override_date, v.row.closed, v.hours) for v in found], language)


async def _upcoming_time_off(
    tx: SessionDep, ctx: BusinessContext, staff: list[StaffMember], now: datetime
) -> list[dict[str, Any]]:
    """Every member's time off that has not ended yet, soonest first."""
    upcoming: list[tuple[TimeOff, StaffMember]] = []
    for member in staff:
        cursor: str | None = None
        for _ in range(TIME_OFF_PAGES):
            rows, cursor = await schedules.list_time_off(
                tx, ctx, ScheduleOwner.staff(member.id), cursor=cursor, limit=TIME_OFF_PAGE
            )
            upcoming += [(row, member) for row in rows if row.ends_at > now]
            if cursor is None:
                break
    upcoming.sort(key=lambda found: (found[0].starts_at, found[0].id))
    return [{"row": row, "member": member} for row, member in upcoming[:TIME_OFF_SHOWN]]


def _member(posted: dict[str, str]) -> uuid.UUID | None:
    """The staff member a form names, or None for the business; a value that is no id
    names no one (never the business in their place)."""
    named = posted.get("staff", "")
    found = parse_uuid(named)
    if named and found is None:
        raise StaffNotFound("No such staff member.")
    return found


def _address(request: Request, business_id: uuid.UUID, chosen: uuid.UUID | None) -> str:
    page = f"/{language_of(request)}{PAGE.format(business_id=business_id)}"
    return f"{page}?staff={chosen}" if chosen else page
