"""A customer record with its history in the business: what staff see when they open one
or list them (the record is the customers domain's; the visits are bookings', the money
the ledger's)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.customers import service as records
from booklnk.customers.service import CustomerView
from booklnk.tenancy.context import BusinessContext


@dataclass(frozen=True, slots=True)
class History:
    visits: int
    upcoming: int
    no_shows: int
    late_cancellations: int
    last_visit_at: datetime | None
    total_paid_minor: int
    currency: str


@dataclass(frozen=True, slots=True)
class CustomerDetail:
    view: CustomerView
    history: History


# A record's bookings are those booked by it or by its account. A late cancellation is
# one its customer made after the free window (the business's own cancellations and
# staff's on a guest's behalf do not count against them); money is captures less refunds
# of the ledger, desk takings included.
_HISTORY = text(
    """
    WITH booked AS (
        SELECT r.id AS record_id, b.id, b.status, b.starts_at, b.customer_id
        FROM customer_record r
        JOIN booking b ON b.business_id = r.business_id
                      AND (b.customer_record_id = r.id OR b.customer_id = r.user_id)
        WHERE r.business_id = :business_id AND r.id = ANY(:record_ids)
    )
    SELECT record_id,
           count(*) FILTER (WHERE status IN ('completed', 'checked_in')) AS visits,
           count(*) FILTER (WHERE status IN ('held', 'confirmed') AND starts_at > :now) AS upcoming,
           count(*) FILTER (WHERE status = 'no_show') AS no_shows,
           count(*) FILTER (
               WHERE status = 'cancelled' AND EXISTS (
                   SELECT 1 FROM booking_status_change c
                   WHERE c.business_id = :business_id AND c.booking_id = booked.id
                     AND c.to_status = 'cancelled' AND c.actor_id = booked.customer_id
                     AND c.changed_at > booked.starts_at - CAST(:window AS interval))
           ) AS late_cancellations,
           max(starts_at) FILTER (WHERE status IN ('completed', 'checked_in')) AS last_visit_at,
           coalesce(sum((
               SELECT sum(CASE l.kind WHEN 'capture' THEN l.amount_minor
                                      WHEN 'refund' THEN -l.amount_minor ELSE 0 END)
               FROM ledger_entry l WHERE l.business_id = :business_id AND l.booking_id = booked.id
           )), 0) AS total_paid_minor
    FROM booked GROUP BY record_id
    """
).bindparams(bindparam("record_ids", type_=ARRAY(UUID(as_uuid=True))))
_CURRENCY = text("SELECT currency FROM business WHERE id = :business_id")


async def histories(
    session: AsyncSession, ctx: BusinessContext, views: list[CustomerView], *, now: datetime
) -> list[CustomerDetail]:
    """Each record with its history, in two statements whatever the page's size."""
    if not views:
        return []
    params: dict[str, Any] = {
        "business_id": ctx.business_id,
        "record_ids": [view.record.id for view in views],
        "now": now,
        "window": timedelta(minutes=ctx.rules.cancellation_window_minutes),
    }
    rows = {row.record_id: row for row in await session.execute(_HISTORY, params)}
    currency = (await session.execute(_CURRENCY, params)).scalar_one()
    details = []
    for view in views:
        row = rows.get(view.record.id)
        history = (
            History(
                row.visits,
                row.upcoming,
                row.no_shows,
                row.late_cancellations,
                row.last_visit_at,
                int(row.total_paid_minor),
                currency,
            )
            if row is not None
            else History(0, 0, 0, 0, None, 0, currency)
        )
        details.append(CustomerDetail(view, history))
    return details


async def customer(
    session: AsyncSession, ctx: BusinessContext, record_id: uuid.UUID, *, now: datetime
) -> CustomerDetail:
    (detail,) = await histories(session, ctx, [await records.get(session, ctx, record_id)], now=now)
    return detail


async def customers(
    session: AsyncSession, ctx: BusinessContext, search: records.Search, *, now: datetime
) -> tuple[list[CustomerDetail], str | None]:
    views, next_cursor = await records.search(session, ctx, search)
    return await histories(session, ctx, views, now=now), next_cursor
