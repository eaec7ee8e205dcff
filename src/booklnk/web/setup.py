"""Setting up a business without the API, as a guided first run: the business itself
(name, link, kind), then its weekly hours, special hours over a range of dates (a Ramadan
or summer schedule in one entry), its team (each working the business's hours), its
services, and finally the link to share. Owners only, through the catalog's own use
cases; each form answers with the setup page again, its problems named by field."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from booklnk.business_types import service as business_types
from booklnk.catalog import schedules
from booklnk.catalog import service as catalog
from booklnk.catalog.owner import ScheduleOwner
from booklnk.catalog.schedule_rules import Span, WeeklySchedule, WeeklySpan
from booklnk.kernel.errors import ValidationFailed
from booklnk.kernel.timezones import DEFAULT_TIME_ZONE
from booklnk.tenancy.context import BusinessContext
from booklnk.tenancy.service import create_business, get_business
from booklnk.web import hours_form, rendering, settings_hours
from booklnk.web.desk_walk_in import minor_units
from booklnk.web.guard import FormDep, OwnerDep, SessionDep, SignedInDep, WebRoute, language_of, see_other
from booklnk.web.words import WORDS, field_rule

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Step = Annotated[str, Path(pattern="^(hours|special-hours|staff|services)$")]
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
ALL_WEEK = WeeklySchedule(hours=[WeeklySpan(day, Span(0, 24 * 60)) for day in range(7)])


@router.get("/desk/new")
async def new_business_page(request: Request, tx: SessionDep, actor: SignedInDep) -> Response:
    return await _new_form(request, tx, errors={}, posted={})


@router.post("/desk/new")
async def new_business(request: Request, tx: SessionDep, actor: SignedInDep, posted: FormDep) -> Response:
    language = language_of(request)
    name, slug = posted.get("name", "").strip()[:200], posted.get("slug", "").strip().lower()
    errors = {}
    if not name:
        errors["name"] = _required(language)
    if not SLUG.match(slug):
        errors["slug"] = WORDS[language]["slug_rule"]
    if errors:
        return await _new_form(request, tx, errors=errors, posted=posted, status_code=422)
    business = await create_business(
        tx,
        actor,
        name=name,
        slug=slug,
        business_type_key=posted.get("business_type", "barbershop"),
        time_zone=DEFAULT_TIME_ZONE,
        currency="EGP",
        rule_overrides={},
    )
    return see_other(f"/{language}/desk/{business.id}/setup")


@router.get("/desk/{business_id}/setup")
async def setup_page(request: Request, business_id: uuid.UUID, tx: SessionDep, ctx: OwnerDep) -> Response:
    return await _setup(request, tx, ctx, errors={})


@router.post("/desk/{business_id}/setup/{step}")
async def setup_step(
    request: Request, business_id: uuid.UUID, step: Step, tx: SessionDep, posted: FormDep, ctx: OwnerDep
) -> Response:
    language = language_of(request)
    try:
        if step == "hours":
            week = hours_form.parse_week(posted)
            await schedules.replace_weekly_schedule(tx, ctx, ScheduleOwner.business(), week)
        elif step == "special-hours":
            await settings_hours.set_special_hours(tx, ctx, posted)
        elif step == "staff":
            await _add_staff(tx, ctx, posted, language)
        else:
            await _add_service(tx, ctx, posted, language)
    except ValidationFailed as refused:
        issue = settings_hours.problem_of(refused)
        invalid: frozenset[str] = frozenset()
        if step in ("hours", "special-hours"):
            # The hours forms' fields are named in the reader's words; the team's and
            # services' refusals keep their own sentence.
            message = hours_form.problem(language, issue)
            invalid = frozenset({issue.field.removeprefix("form.")})
        else:
            message = issue.message
        return await _setup(request, tx, ctx, errors={step: message}, invalid=invalid, status_code=422)
    return see_other(f"/{language}/desk/{business_id}/setup#{step}")


async def _add_staff(tx: SessionDep, ctx: BusinessContext, posted: dict[str, str], language: str) -> None:
    name = posted.get("display_name", "").strip()[:200]
    if not name:
        raise ValidationFailed.on("form.display_name", "required", _required(language))
    member = await catalog.create_staff(tx, ctx, display_name=name, user_id=None, active=True)
    # A new team member works whenever the business is open: their own week is the whole
    # week, so the business's hours (weekly, and its special dates, a Ramadan's) decide.
    await schedules.replace_weekly_schedule(tx, ctx, ScheduleOwner.staff(member.id), ALL_WEEK)


async def _add_service(tx: SessionDep, ctx: BusinessContext, posted: dict[str, str], language: str) -> None:
    name = posted.get("name", "").strip()[:200]
    if not name:
        raise ValidationFailed.on("form.name", "required", _required(language))
    durations = [int(d) for d in re.findall(r"[0-9]+", posted.get("durations", ""))[:10]]
    staff, _ = await catalog.list_staff(tx, ctx, catalog.Listing(cursor=None, limit=100))
    spec = catalog.ServiceSpec(
        name=name,
        price_minor=minor_units(posted.get("price", ""), "EGP"),
        duration_options_minutes=durations or None,
        staff_ids=[s.id for s in staff],
    )
    await catalog.create_service(tx, ctx, spec)


async def _new_form(
    request: Request,
    tx: SessionDep,
    *,
    errors: dict[str, str],
    posted: dict[str, str],
    status_code: int = 200,
) -> Response:
    language = language_of(request)
    kinds, _ = await business_types.list_definitions(tx, cursor=None, limit=50)
    choices = [(d.key, (d.name_ar if language == "ar" and d.name_ar else d.name)) for d in kinds]
    return rendering.page(
        request,
        language,
        "setup_new.html",
        status_code=status_code,
        kinds=choices,
        errors=errors,
        posted=posted,
    )


async def _setup(
    request: Request,
    tx: SessionDep,
    ctx: BusinessContext,
    *,
    errors: dict[str, str],
    invalid: frozenset[str] = frozenset(),
    status_code: int = 200,
) -> Response:
    language = language_of(request)
    week = await schedules.get_weekly_schedule(tx, ctx, ScheduleOwner.business())
    staff, _ = await catalog.list_staff(tx, ctx, catalog.Listing(cursor=None, limit=100))
    services, _ = await catalog.list_services(tx, ctx, catalog.Listing(cursor=None, limit=100))
    business = await get_business(tx, ctx.business_id)
    settings = request.app.state.settings
    return rendering.page(
        request,
        language,
        "setup.html",
        status_code=status_code,
        business=business,
        rows=hours_form.week_rows(week, language),
        invalid=invalid,
        staff=staff,
        services=[v.service for v in services],
        errors=errors,
        link=f"{settings.public_base_url.rstrip('/')}/{language}/b/{business.slug}",
        base=f"/{language}/desk/{ctx.business_id}",
    )


def _required(language: str) -> str:
    return field_rule(language, "missing")
