"""The owner's reports page: money taken per day, week or month, the services booked most,
each staff member's booked share of their hours, and the no-show and late-cancellation
rates, as charts drawn on the server with their numbers beside them; each table is also
a CSV download (as spreadsheets open it: Arabic intact, no formulas)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from babel.numbers import format_percent
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from booklnk.flows import reports
from booklnk.kernel.errors import ValidationFailed
from booklnk.kernel.money import MINOR_UNITS
from booklnk.kernel.spreadsheet import lines
from booklnk.notifications.rendering import formats
from booklnk.tenancy.service import get_business
from booklnk.web import charts, presenting, rendering
from booklnk.web.desk import typed_amount
from booklnk.web.guard import OwnerDep, SessionDep, WebRoute, language_of, now_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)
DEFAULT_DAYS = 30


@router.get("/desk/{business_id}/reports")
async def reports_page(
    request: Request,
    business_id: uuid.UUID,
    tx: SessionDep,
    ctx: OwnerDep,
    period: Annotated[Literal["day", "week", "month"], Query()] = "day",
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Annotated[date | None, Query()] = None,
    csv: Annotated[Literal["revenue", "services", "staff", "rooms"] | None, Query()] = None,
) -> Response:
    language = language_of(request)
    today = now_of(request).astimezone(ZoneInfo(ctx.time_zone)).date()
    last = to or today
    first = from_ or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ValidationFailed.on("query.from", "valid_window", "The first date comes before the last.")
    found = await reports.report(tx, ctx, first=first, last=last, bucket=period)
    currency = await _currency(tx, ctx.business_id)
    if csv is not None:
        return _csv(found, csv, currency)
    written = formats(language)
    locale = presenting.LOCALES[language]
    labels = [(_bucket_label(b, period, locale), v) for b, v in found.revenue]
    return rendering.page(
        request,
        language,
        "reports.html",
        report=found,
        currency=currency,
        revenue_chart=charts.bars(
            labels,
            summary=written.money(sum(v for _, v in labels), currency),
            written=lambda v: written.money(v, currency),
        ),
        services_chart=charts.bars(
            [(n, c) for n, c, _ in found.services],
            summary=", ".join(n for n, _, _ in found.services),
            written=str,
        ),
        labels=labels,
        percent=lambda part, whole: format_percent(part / whole if whole else 0, locale=locale),
        period=period,
        base=f"/{language}/desk/{business_id}/reports",
        query=f"period={period}&from={first.isoformat()}&to={last.isoformat()}",
    )


def _bucket_label(first: date, period: str, locale: str) -> str:
    skeleton = {"day": "MMMd", "week": "MMMd", "month": "yMMM"}[period]
    return str(format_skeleton(skeleton, first, locale=locale))


def _csv(found: reports.Report, table: str, currency: str) -> Response:
    if table == "revenue":
        header: tuple[str, ...] = ("period_start", f"taken_{currency.lower()}")
        rows: list[tuple[object, ...]] = [
            (b.isoformat(), typed_amount(v, currency)) for b, v in found.revenue
        ]
    elif table == "services":
        header = ("service", "bookings", f"paid_{currency.lower()}")
        rows = [(n, c, typed_amount(p, currency)) for n, c, p in found.services]
    elif table == "staff":
        header = ("staff", "booked_minutes", "working_minutes")
        rows = [(s.name, s.booked_minutes, s.working_minutes) for s in found.staff]
    else:
        header = ("room", "occupied_minutes", "open_minutes")
        rows = [(r.name, r.booked_minutes, r.working_minutes) for r in found.rooms]
    name = f"{table}-{found.first.isoformat()}-{found.last.isoformat()}.csv"
    return Response(
        "".join(lines(header, rows)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def _currency(tx: SessionDep, business_id: uuid.UUID) -> str:
    business = await get_business(tx, business_id)
    return business.currency if business.currency in MINOR_UNITS else "EGP"
