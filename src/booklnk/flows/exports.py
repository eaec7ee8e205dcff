"""A business's data as spreadsheets (owners): its bookings over a window and its
customers, each export written to the audit log. Read into memory within bounds (the
request's transaction ends before its answer is sent, so nothing streams from it)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.audit import log as audit
from booklnk.customers import service as records
from booklnk.flows.customers import histories
from booklnk.kernel.errors import ValidationFailed
from booklnk.kernel.money import Money
from booklnk.tenancy.context import BusinessContext

MAX_ROWS = 20_000
MAX_WINDOW = timedelta(days=366)

BOOKING_COLUMNS = (
    "booking_id",
    "starts_at_local",
    "ends_at_local",
    "status",
    "service",
    "staff",
    "customer",
    "phone",
    "price",
    "paid",
    "refunded",
    "currency",
)
CUSTOMER_COLUMNS = (
    "customer_id",
    "name",
    "phone",
    "email",
    "tags",
    "marketing_consent",
    "visits",
    "upcoming",
    "no_shows",
    "late_cancellations",
    "last_visit_at",
    "total_paid",
    "currency",
    "created_at",
)

# A booking with its service, staff member, customer (their record's name and number
# before their account's) and money from the ledger, in start order.
_BOOKINGS = text(
    """
    SELECT b.id, b.starts_at, b.ends_at, b.status, s.name AS service, st.display_name AS staff,
           coalesce(r.name, u.full_name, b.guest_name) AS customer, coalesce(r.phone, u.phone) AS phone,
           b.price_minor, b.currency,
           coalesce(m.paid, 0) AS paid_minor, coalesce(m.refunded, 0) AS refunded_minor
    FROM booking b
    JOIN service s ON s.business_id = b.business_id AND s.id = b.service_id
    JOIN staff_member st ON st.business_id = b.business_id AND st.id = b.staff_id
    LEFT JOIN app_user u ON u.id = b.customer_id
    LEFT JOIN customer_record r ON r.business_id = b.business_id
         AND (r.id = b.customer_record_id OR (b.customer_record_id IS NULL AND r.user_id = b.customer_id))
    LEFT JOIN LATERAL (
        SELECT sum(amount_minor) FILTER (WHERE kind = 'capture') AS paid,
               sum(amount_minor) FILTER (WHERE kind = 'refund') AS refunded
        FROM ledger_entry l WHERE l.business_id = b.business_id AND l.booking_id = b.id
    ) m ON true
    WHERE b.business_id = :business_id AND b.starts_at >= :starts_from AND b.starts_at < :starts_before
    ORDER BY b.starts_at, b.id
    LIMIT :limit
    """
)


def _too_many(what: str) -> ValidationFailed:
    return ValidationFailed.on(
        "query.to" if what == "bookings" else "query",
        "export_too_large",
        f"At most {MAX_ROWS} {what} per file: narrow the window.",
    )


async def bookings(
    session: AsyncSession, ctx: BusinessContext, *, starts_from: datetime, starts_before: datetime
) -> list[Sequence[object]]:
    """Bookings starting in [starts_from, starts_before): at most a year, MAX_ROWS rows."""
    if starts_before <= starts_from:
        raise ValidationFailed.on("query.to", "valid_window", "`to` must be later than `from`.")
    if starts_before - starts_from > MAX_WINDOW:
        raise ValidationFailed.on("query.to", "window_too_long", "Export at most a year at a time.")
    params = {
        "business_id": ctx.business_id,
        "starts_from": starts_from,
        "starts_before": starts_before,
        "limit": MAX_ROWS + 1,
    }
    rows = list(await session.execute(_BOOKINGS, params))
    if len(rows) > MAX_ROWS:
        raise _too_many("bookings")
    window = {"from": starts_from, "to": starts_before, "rows": len(rows)}
    await _audit(session, ctx, "export.bookings", window)
    return [_booking_row(row, ctx.time_zone) for row in rows]


def _booking_row(row: Any, time_zone: str) -> Sequence[object]:
    def money(minor: int) -> str:
        return Money(int(minor), row.currency).major_str()

    return (
        row.id,
        _local(row.starts_at, time_zone),
        _local(row.ends_at, time_zone),
        row.status,
        row.service,
        row.staff,
        row.customer,
        row.phone,
        money(row.price_minor),
        money(row.paid_minor),
        money(row.refunded_minor),
        row.currency,
    )


def _local(instant: datetime, time_zone: str) -> str:
    return instant.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m-%d %H:%M")


async def customers(session: AsyncSession, ctx: BusinessContext, *, now: datetime) -> list[Sequence[object]]:
    """Every customer record with its history, newest first."""
    rows: list[Sequence[object]] = []
    cursor: str | None = None
    while True:
        views, cursor = await records.search(session, ctx, records.Search(cursor=cursor, limit=200))
        rows += _customer_rows(await histories(session, ctx, views, now=now), ctx.time_zone)
        if len(rows) > MAX_ROWS:
            raise _too_many("customers")
        if cursor is None:
            break
    await _audit(session, ctx, "export.customers", {"rows": len(rows)})
    return rows


def _customer_rows(details: Iterable[Any], time_zone: str) -> list[Sequence[object]]:
    return [
        (
            detail.view.record.id,
            detail.view.name,
            detail.view.phone,
            detail.view.record.email,
            " ".join(detail.view.record.tags),
            "yes" if detail.view.record.marketing_consent else "no",
            detail.history.visits,
            detail.history.upcoming,
            detail.history.no_shows,
            detail.history.late_cancellations,
            _local(detail.history.last_visit_at, time_zone) if detail.history.last_visit_at else None,
            Money(detail.history.total_paid_minor, detail.history.currency).major_str(),
            detail.history.currency,
            _local(detail.view.record.created_at, time_zone),
        )
        for detail in details
    ]


async def _audit(
    session: AsyncSession, ctx: BusinessContext, action: str, details: dict[str, object]
) -> None:
    subject = ("business", ctx.business_id)
    await audit.record(session, ctx.business_id, ctx.actor.user_id, action, subject=subject, details=details)
