"""A business's bookings and customers as CSV files for spreadsheets (owners)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from booklnk.api.deps import NowDep, OwnerCtx, SessionDep
from booklnk.api.problems import problem_responses
from booklnk.catalog.schemas import Instant
from booklnk.flows import exports
from booklnk.kernel.spreadsheet import lines

router = APIRouter(prefix="/v1/businesses/{business_id}/exports", tags=["businesses"])


class CsvResponse(Response):
    media_type = "text/csv; charset=utf-8"


def _csv_doc(description: str, *error_statuses: int) -> dict[int | str, dict[str, Any]]:
    """A text/csv success; errors as problem+json only."""
    problems = {
        code: {key: value for key, value in doc.items() if key != "model"}
        for code, doc in problem_responses(*error_statuses).items()
    }
    csv = {"text/csv": {"schema": {"type": "string"}}}
    return {200: {"description": description, "content": csv}, **problems}


def _file(name: str, header: tuple[str, ...], rows: list[Any]) -> CsvResponse:
    body = "".join(lines(header, rows))
    return CsvResponse(body, headers={"Content-Disposition": f'attachment; filename="{name}"'})


_SPREADSHEET = (
    "UTF-8 with a byte order mark, so Excel opens Arabic as written; a cell that would start with = + - @ "
    "is prefixed with an apostrophe (a number shows as '+2010…), so no cell runs as a formula. Times are the "
    "business's local time, money in major units. The export is written to the audit log."
)


@router.get(
    "/bookings.csv",
    summary="The business's bookings as a spreadsheet (owners)",
    description=f"Bookings starting in [from, to), at most a year and {exports.MAX_ROWS} rows (422 "
    f"`validation_failed`, rule `export_too_large` or `window_too_long`), in start order: status, service, "
    f"staff, customer and phone, price, paid and refunded. {_SPREADSHEET}",
    response_class=CsvResponse,
    responses=_csv_doc("A CSV file, a header row first.", 401, 403, 404, 422),
)
async def export_bookings(
    ctx: OwnerCtx,
    session: SessionDep,
    from_: Annotated[Instant, Query(alias="from", description="Bookings starting at or after this instant.")],
    to: Annotated[Instant, Query(description="Bookings starting before this instant.")],
) -> CsvResponse:
    rows = await exports.bookings(session, ctx, starts_from=from_, starts_before=to)
    return _file("bookings.csv", exports.BOOKING_COLUMNS, rows)


@router.get(
    "/customers.csv",
    summary="The business's customers as a spreadsheet (owners)",
    description=f"Every customer record, newest first, with its history here (at most {exports.MAX_ROWS}). "
    f"{_SPREADSHEET}",
    response_class=CsvResponse,
    responses=_csv_doc("A CSV file, a header row first.", 401, 403, 404, 422),
)
async def export_customers(ctx: OwnerCtx, session: SessionDep, now: NowDep) -> CsvResponse:
    rows = await exports.customers(session, ctx, now=now)
    return _file("customers.csv", exports.CUSTOMER_COLUMNS, rows)
