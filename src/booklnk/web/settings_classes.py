"""An owner's class series (class businesses: a gym's timetable): each series with its
weekly time, instructor, room, capacity and next sessions (seats taken and left); a new
weekly series published from a form; a series cancelled after a page that says what that
does (its future sessions and their bookings cancelled, every payment refunded in full).
Owners only, through the class use cases the API calls; a refused form answers with the
page again, its problem named by field in the reader's language."""

from __future__ import annotations

import re
import uuid
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from booklnk.booking.classes import recurrence, sessions
from booklnk.booking.classes import series as class_series
from booklnk.booking.classes.errors import SessionClosed
from booklnk.booking.classes.models import ClassSeries, SessionStatus
from booklnk.catalog import service as catalog
from booklnk.catalog.errors import ResourceNotFound, ServiceNotFound, StaffNotFound
from booklnk.catalog.schemas import EARLIEST, LATEST
from booklnk.flows import classes as class_flows
from booklnk.kernel.errors import BooklnkError
from booklnk.tenancy.context import BusinessContext
from booklnk.tenancy.service import get_business
from booklnk.web import presenting, rendering
from booklnk.web.guard import (
    FormDep,
    OwnerDep,
    Refused,
    SessionDep,
    WebRoute,
    language_of,
    now_of,
    parse_uuid,
    posted_version,
    see_other,
)
from booklnk.web.words import WORDS, field_rule

router = APIRouter(route_class=WebRoute, include_in_schema=False)
CLOCK = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
RRULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # index = date.weekday()
MAX_CAPACITY = 1000  # as the API accepts
MAX_COUNT = 1000  # sessions in one series from this form; a longer one runs open-ended
MAX_LENGTH = 1440
NEXT_SHOWN = 3
PAGE_LIMIT = 100
SERIES_SHOWN = 100
# Sessions read per window (the use case reads at most 62 days at once).
WINDOW = timedelta(days=sessions.MAX_WINDOW_DAYS)
WINDOW_ROWS = 500
# The use case's fields, as the form names them.
FORM_FIELDS = {
    "body.service_id": "service",
    "body.staff_id": "instructor",
    "body.rrule": "days",
    "body.starts_on": "first_date",
    "body.start_time": "start_time",
    "body.duration_minutes": "length",
    "body.capacity": "capacity",
    "body.resource_ids": "room",
}
# What each refusal of the use case means to the owner (the rest: the field's general rule).
RULE_WORDS = {
    "off_grid": "classes_off_grid",
    "outside_hours": "classes_outside_hours",
    "duration_not_offered": "classes_length_rule",
    "resource_required": "classes_room_rule",
    "unknown_resource": "classes_room_rule",
    "one_per_kind": "classes_room_rule",
    "no_resource_of_kind": "classes_no_room",
    "no_occurrences": "classes_no_occurrences",
    "class_mode_only": "classes_not_class",
}
BUSY_FIELDS = {"instructor_busy": "instructor", "resource_busy": "room"}
NOT_FOUND_FIELDS = {ServiceNotFound: "service", StaffNotFound: "instructor", ResourceNotFound: "room"}


@dataclass(slots=True)
class Timetable:
    """The open series, and each one's sessions ahead (by start)."""

    series: list[ClassSeries] = field(default_factory=list)
    upcoming: dict[uuid.UUID, list[sessions.SessionView]] = field(default_factory=dict)


@router.get("/desk/{business_id}/settings/classes")
async def classes_page(request: Request, business_id: uuid.UUID, tx: SessionDep, ctx: OwnerDep) -> Response:
    return await _page(request, tx, ctx, errors={}, posted={})


@router.post("/desk/{business_id}/settings/classes")
async def publish(
    request: Request, business_id: uuid.UUID, tx: SessionDep, posted: FormDep, ctx: OwnerDep
) -> Response:
    language = language_of(request)
    try:
        spec = _spec(posted, language)
        # A refusal may come after the series' first rows were written: a savepoint keeps
        # the page's transaction (committed with the 422 page) free of them.
        async with tx.begin_nested():
            await class_series.publish_series(tx, ctx, spec, now=now_of(request))
    except Refused as refused:
        problem = refused
    except BooklnkError as error:
        problem = _explained(error, language)
    else:
        return see_other(f"/{language}/desk/{business_id}/settings/classes#series")
    errors = {problem.field: problem.message}
    return await _page(request, tx, ctx, errors=errors, posted=posted, status_code=problem.status_code)


@router.get("/desk/{business_id}/settings/classes/{series_id}/cancel")
async def cancel_page(
    request: Request, business_id: uuid.UUID, series_id: uuid.UUID, tx: SessionDep, ctx: OwnerDep
) -> Response:
    """What cancelling does, said before it is done."""
    language = language_of(request)
    series = await class_series.get_series(tx, ctx, series_id)
    timetable = await _timetable(tx, ctx, now_of(request))
    upcoming = timetable.upcoming.get(series.id, [])
    names = await _names(tx, ctx)
    return rendering.page(
        request,
        language,
        "settings_classes_cancel.html",
        business=await get_business(tx, ctx.business_id),
        series=series,
        row=_row(series, upcoming, names, language),
        open=series.status is SessionStatus.SCHEDULED,
        sessions_count=len(upcoming),
        seats=sum(v.session.seats_taken for v in upcoming),
        zone=ctx.time_zone,
        base=f"/{language}/desk/{ctx.business_id}",
    )


@router.post("/desk/{business_id}/settings/classes/{series_id}/cancel")
async def cancel(
    request: Request,
    business_id: uuid.UUID,
    series_id: uuid.UUID,
    tx: SessionDep,
    posted: FormDep,
    ctx: OwnerDep,
) -> Response:
    language = language_of(request)
    # Cancelled already (a second tap): what the owner asked for is so.
    with suppress(SessionClosed):
        await class_flows.cancel_series(
            tx, ctx, series_id, expected_version=posted_version(posted), now=now_of(request)
        )
    return see_other(f"/{language}/desk/{business_id}/settings/classes#series")


def _spec(posted: dict[str, str], language: str) -> class_series.SeriesSpec:
    """The form as the use case takes it: a weekly rule on the days ticked, ending on a
    date or after a number of sessions (or running on)."""
    words = WORDS[language]
    service_id = parse_uuid(posted.get("service"))
    if service_id is None:
        raise Refused("service", field_rule(language, "missing"))
    staff_id = parse_uuid(posted.get("instructor"))
    if staff_id is None:
        raise Refused("instructor", field_rule(language, "missing"))
    room = posted.get("room", "")
    room_id = parse_uuid(room)
    if room and room_id is None:
        raise Refused("room", words["classes_room_rule"])
    days = [code for day, code in enumerate(RRULE_DAYS) if posted.get(f"day_{day}") == "on"]
    if not days:
        raise Refused("days", words["classes_days_rule"])
    clock = CLOCK.match(posted.get("start_time", "").strip())
    if clock is None:
        raise Refused("start_time", words["classes_time_rule"])
    first = _date(posted, "first_date", language)
    if first is None:
        raise Refused("first_date", field_rule(language, "missing"))
    until = _date(posted, "until", language)
    count = _number(posted, "count", language, MAX_COUNT)
    if until is not None and count is not None:
        raise Refused("count", words["classes_ends_rule"])
    if until is not None and until < first:
        raise Refused("until", words["classes_until_rule"])
    rule = f"FREQ=WEEKLY;BYDAY={','.join(days)}"
    if until is not None:
        rule += f";UNTIL={until:%Y%m%d}"
    elif count is not None:
        rule += f";COUNT={count}"
    return class_series.SeriesSpec(
        service_id=service_id,
        staff_id=staff_id,
        rrule=rule,
        starts_on=first,
        start_time=time(int(clock.group(1)), int(clock.group(2))),
        duration_minutes=_number(posted, "length", language, MAX_LENGTH),
        capacity=_number(posted, "capacity", language, MAX_CAPACITY),
        resource_ids=[room_id] if room_id is not None else None,
    )


def _date(posted: dict[str, str], name: str, language: str) -> date | None:
    """A date the form may leave empty (None), within the dates the service supports."""
    value = posted.get(name, "").strip()
    if not value:
        return None
    try:
        found = date.fromisoformat(value)
    except ValueError:
        raise Refused(name, WORDS[language]["classes_date_rule"]) from None
    if not EARLIEST <= found <= LATEST:
        raise Refused(name, WORDS[language]["classes_date_rule"])
    return found


def _number(posted: dict[str, str], name: str, language: str, most: int) -> int | None:
    """An optional whole number from 1 to `most` (empty: the use case's default)."""
    value = posted.get(name, "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 6 and 1 <= int(value) <= most):
        raise Refused(name, WORDS[language]["classes_number_rule"].format(most=most))
    return int(value)


def _explained(error: BooklnkError, language: str) -> Refused:
    """A refusal of the use case as the form's field and a sentence in the reader's language."""
    words = WORDS[language]
    if error.code in BUSY_FIELDS:
        return Refused(BUSY_FIELDS[error.code], words["classes_busy"], status_code=409)
    for kind, name in NOT_FOUND_FIELDS.items():
        if isinstance(error, kind):
            return Refused(name, words["classes_pick_rule"])
    if error.status != 422 or not error.issues:
        raise error
    issue = error.issues[0]
    name = FORM_FIELDS.get(issue.field, "days")
    key = RULE_WORDS.get(issue.rule)
    return Refused(name, words[key] if key else field_rule(language, "value_error"))


async def _timetable(tx: SessionDep, ctx: BusinessContext, now: datetime) -> Timetable:
    """The open series, and their sessions ahead up to the booking horizon (sessions are
    stored that far: a series starting later has none yet, and is listed all the same)."""
    timetable = Timetable(series=await class_series.list_series(tx, ctx, limit=SERIES_SHOWN))
    start, end = now, now + timedelta(days=ctx.rules.horizon_days + 1)
    while start < end:
        page = await sessions.list_sessions(
            tx, ctx, start=start, end=min(start + WINDOW, end), limit=WINDOW_ROWS
        )
        for view in page.views:
            if view.session.series_id is not None:
                timetable.upcoming.setdefault(view.session.series_id, []).append(view)
        start += WINDOW
    return timetable


async def _names(tx: SessionDep, ctx: BusinessContext) -> dict[uuid.UUID, str]:
    """Services, instructors and rooms by id (inactive ones too: a series may keep them)."""
    listing = catalog.Listing(cursor=None, limit=PAGE_LIMIT, include_inactive=True)
    services, _ = await catalog.list_services(tx, ctx, listing)
    staff, _ = await catalog.list_staff(tx, ctx, listing)
    rooms, _ = await catalog.list_resources(tx, ctx, listing)
    names = {v.service.id: v.service.name for v in services}
    names |= {s.id: s.display_name for s in staff}
    return names | {r.id: r.name for r in rooms}


def _row(
    series: ClassSeries, upcoming: list[sessions.SessionView], names: dict[uuid.UUID, str], language: str
) -> dict[str, Any]:
    words = WORDS[language]
    return {
        "series": series,
        "service": names.get(series.service_id, ""),
        "when": _weekly(series, language),
        "instructor": names.get(series.staff_id, ""),
        "rooms": [names.get(r, "") for r in series.resource_ids],
        "capacity": series.capacity,
        "length": presenting.duration(series.duration_minutes, language),
        "next": [
            (
                v.session.starts_at,
                words["classes_seats"].format(taken=v.session.seats_taken, left=v.seats_left),
            )
            for v in upcoming[:NEXT_SHOWN]
        ],
    }


def _weekly(series: ClassSeries, language: str) -> str:
    """ "Every Monday and Wednesday at 6:00 PM" (a rule the API set otherwise: as written)."""
    words = WORDS[language]
    at = presenting.wall_clock(series.start_time.hour * 60 + series.start_time.minute, language)
    try:
        rule = recurrence.parse(series.rrule, series.starts_on)
    except BooklnkError:
        return series.rrule
    if rule.frequency != "WEEKLY" or rule.interval != 1 or rule.months:
        return f"{series.rrule} · {at}"
    weekdays = rule.weekdays or frozenset({series.starts_on.weekday()})
    days = words["comma"].join(
        presenting.weekday_name(d, language) for d in presenting.WEEK_FROM_SATURDAY if d in weekdays
    )
    text = words["classes_weekly"].format(days=days, time=at)
    if rule.until is not None:
        text += " · " + words["classes_until_on"].format(day=presenting.long_date(rule.until, language))
    elif rule.count is not None:
        text += " · " + words["classes_count_of"].format(count=rule.count)
    return text


async def _page(
    request: Request,
    tx: SessionDep,
    ctx: BusinessContext,
    *,
    errors: dict[str, str],
    posted: dict[str, str],
    status_code: int = 200,
) -> Response:
    language = language_of(request)
    business = await get_business(tx, ctx.business_id)
    values: dict[str, Any] = {"business": business, "base": f"/{language}/desk/{ctx.business_id}"}
    if ctx.rules.mode != "class":
        return rendering.page(
            request, language, "settings_classes.html", status_code=status_code, class_mode=False, **values
        )
    timetable = await _timetable(tx, ctx, now_of(request))
    names = await _names(tx, ctx)
    services, _ = await catalog.list_services(tx, ctx, catalog.Listing(cursor=None, limit=PAGE_LIMIT))
    staff, _ = await catalog.list_staff(tx, ctx, catalog.Listing(cursor=None, limit=PAGE_LIMIT))
    rooms, _ = await catalog.list_resources(tx, ctx, catalog.Listing(cursor=None, limit=PAGE_LIMIT))
    return rendering.page(
        request,
        language,
        "settings_classes.html",
        status_code=status_code,
        class_mode=True,
        rows=[_row(s, timetable.upcoming.get(s.id, []), names, language) for s in timetable.series],
        services=[v.service for v in services],
        staff=staff,
        rooms=rooms,
        needs_room=any(v.service.required_resource_kinds for v in services),
        days=[(d, presenting.weekday_name(d, language)) for d in presenting.WEEK_FROM_SATURDAY],
        zone=ctx.time_zone,
        today=now_of(request).astimezone(ZoneInfo(ctx.time_zone)).date().isoformat(),
        errors=errors,
        problems=_problems(errors, language),
        posted=posted,
        **values,
    )


def _problems(errors: dict[str, str], language: str) -> list[tuple[str, str]]:
    """Each problem with its field's name, for the summary at the top of the page."""
    words = WORDS[language]
    return [
        (f"#{name}", f"{words.get('classes_' + name, name)}: {message}") for name, message in errors.items()
    ]
