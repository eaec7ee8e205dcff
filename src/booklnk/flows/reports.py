"""An owner's reports over a window of local dates: money taken (online and at the desk,
less refunds) per day, week or month; the services booked most; each staff member's and
each room's booked time against the time they could be booked (`working_time`: hours,
breaks, special dates and time off); no-show and late-cancellation rates. Read-only
SQL over the bookings and the ledger (the domains' own tables, no writes), in the
business's time zone."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.catalog import service as catalog
from booklnk.flows import working_time
from booklnk.kernel.errors import ValidationFailed
from booklnk.scheduling.intervals import Interval
from booklnk.tenancy.context import BusinessContext

Bucket = Literal["day", "week", "month"]
MAX_DAYS = 366
TOP_SERVICES = 10
_STANDING = "('confirmed', 'checked_in', 'completed', 'no_show')"

_REVENUE = text(
    """
    SELECT CAST(date_trunc(:bucket, l.created_at AT TIME ZONE :zone) AS date) AS bucket,
           sum(CASE l.kind WHEN 'capture' THEN l.amount_minor WHEN 'refund' THEN -l.amount_minor ELSE 0 END)
    FROM ledger_entry l
    WHERE l.business_id = :business_id AND l.created_at >= :start AND l.created_at < :end
    GROUP BY 1 ORDER BY 1
    """
)
_SERVICES = text(
    f"""
    SELECT s.name, count(*) AS bookings,
           coalesce(sum((SELECT sum(CASE l.kind WHEN 'capture' THEN l.amount_minor
                                                WHEN 'refund' THEN -l.amount_minor ELSE 0 END)
                         FROM ledger_entry l
                         WHERE l.business_id = b.business_id AND l.booking_id = b.id)), 0) AS paid
    FROM booking b JOIN service s ON s.business_id = b.business_id AND s.id = b.service_id
    WHERE b.business_id = :business_id AND b.starts_at >= :start AND b.starts_at < :end
      AND b.status IN {_STANDING}
    GROUP BY s.name ORDER BY bookings DESC, s.name LIMIT {TOP_SERVICES}
    """
)
_STAFF_MINUTES = text(
    f"""
    SELECT b.staff_id, sum(extract(epoch FROM b.ends_at - b.starts_at)) / 60 AS minutes
    FROM booking b
    WHERE b.business_id = :business_id AND b.starts_at >= :start AND b.starts_at < :end
      AND b.status IN {_STANDING}
    GROUP BY b.staff_id
    """
)
# A room's or chair's occupied time: the allocations that hold it (bookings' and classes'),
# by the start of what they hold.
_ROOM_MINUTES = text(
    """
    SELECT a.resource_id, sum(extract(epoch FROM upper(a.period) - lower(a.period))) / 60 AS minutes
    FROM allocation a
    WHERE a.business_id = :business_id AND a.resource_id IS NOT NULL AND a.active
      AND lower(a.period) >= :start AND lower(a.period) < :end
    GROUP BY a.resource_id
    """
)
# Late: cancelled by its own customer after the free window (as a customer's history counts).
_RATES = text(
    """
    SELECT count(*) FILTER (WHERE b.status IN ('checked_in', 'completed', 'no_show')) AS came_due,
           count(*) FILTER (WHERE b.status = 'no_show') AS no_shows,
           count(*) FILTER (WHERE b.status <> 'expired') AS booked,
           count(*) FILTER (
               WHERE b.status = 'cancelled' AND EXISTS (
                   SELECT 1 FROM booking_status_change c
                   WHERE c.business_id = b.business_id AND c.booking_id = b.id
                     AND c.to_status = 'cancelled' AND c.actor_id = b.customer_id
                     AND c.changed_at > b.starts_at - CAST(:window AS interval))
           ) AS late_cancellations
    FROM booking b
    WHERE b.business_id = :business_id AND b.starts_at >= :start AND b.starts_at < :end
    """
)


@dataclass(frozen=True, slots=True)
class Use:
    """A staff member's or a room's booked minutes out of the minutes they could be booked."""

    name: str
    booked_minutes: int
    working_minutes: int


@dataclass(frozen=True, slots=True)
class Report:
    first: date
    last: date
    bucket: Bucket
    revenue: list[tuple[date, int]]  # every bucket of the window, empty ones at 0
    services: list[tuple[str, int, int]]  # name, bookings, paid (minor units)
    staff: list[Use]
    rooms: list[Use]
    came_due: int
    no_shows: int
    booked: int
    late_cancellations: int


async def report(
    session: AsyncSession, ctx: BusinessContext, *, first: date, last: date, bucket: Bucket
) -> Report:
    """The owner's figures for the local dates [first, last]."""
    days = (last - first).days + 1
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed.on("query.to", "valid_window", f"Give 1 to {MAX_DAYS} days, first to last.")
    zone = ZoneInfo(ctx.time_zone)
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    window = {"business_id": ctx.business_id, "start": start, "end": end}
    revenue = {
        row[0]: row[1]
        for row in await session.execute(_REVENUE, {**window, "bucket": bucket, "zone": ctx.time_zone})
    }
    services = [(str(r[0]), int(r[1]), int(r[2])) for r in await session.execute(_SERVICES, window)]
    booked = {row[0]: float(row[1]) for row in await session.execute(_STAFF_MINUTES, window)}
    occupied = {row[0]: float(row[1]) for row in await session.execute(_ROOM_MINUTES, window)}
    rates = (
        await session.execute(
            _RATES, {**window, "window": timedelta(minutes=ctx.rules.cancellation_window_minutes)}
        )
    ).one()
    return Report(
        first,
        last,
        bucket,
        [(b, int(revenue.get(b, 0))) for b in buckets(first, last, bucket)],
        services,
        *await _use(session, ctx, booked, occupied, Interval(start, end), first, last),
        int(rates.came_due),
        int(rates.no_shows),
        int(rates.booked),
        int(rates.late_cancellations),
    )


async def _use(
    session: AsyncSession,
    ctx: BusinessContext,
    booked: dict[uuid.UUID, float],
    occupied: dict[uuid.UUID, float],
    span: Interval,
    first: date,
    last: date,
) -> tuple[list[Use], list[Use]]:
    """Each staff member's and each room's booked minutes against the minutes they could
    be booked in the window, as the desk's calendar shows them."""
    listing = catalog.Listing(cursor=None, limit=200)
    staff, _ = await catalog.list_staff(session, ctx, listing)
    rooms, _ = await catalog.list_resources(session, ctx, listing)
    hours = await working_time.hours_of(
        session,
        ctx,
        staff_ids=[s.id for s in staff],
        resource_ids=[r.id for r in rooms],
        first=first,
        last=last,
    )

    def minutes(owner: uuid.UUID) -> int:
        return round(hours[owner].open.clip(span).total.total_seconds() / 60)

    return (
        [Use(s.display_name, round(booked.get(s.id, 0)), minutes(s.id)) for s in staff],
        [Use(r.name, round(occupied.get(r.id, 0)), minutes(r.id)) for r in rooms],
    )


def buckets(first: date, last: date, bucket: Bucket) -> list[date]:
    """Each bucket's first date touching [first, last] (as date_trunc starts them: weeks
    on Monday, months on the 1st), in order (pure)."""
    if bucket == "day":
        start = first
    elif bucket == "week":
        start = first - timedelta(days=first.weekday())
    else:
        start = first.replace(day=1)
    found = []
    at = start
    while at <= last:
        found.append(at)
        if bucket == "day":
            at += timedelta(days=1)
        elif bucket == "week":
            at += timedelta(days=7)
        else:
            at = (at.replace(day=28) + timedelta(days=4)).replace(day=1)
    return found
