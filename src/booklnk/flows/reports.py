"""An owner's reports over a window of local dates: money taken (online and at the desk,
less refunds) per day, week or month; the services booked most; each staff member's
booked time against their weekly hours; no-show and late-cancellation rates. Read-only
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

from booklnk.catalog import schedules
from booklnk.catalog import service as catalog
from booklnk.catalog.owner import ScheduleOwner
from booklnk.kernel.errors import ValidationFailed
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
class StaffUse:
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
    staff: list[StaffUse]
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
        await _staff_use(session, ctx, booked, first, days),
        int(rates.came_due),
        int(rates.no_shows),
        int(rates.booked),
        int(rates.late_cancellations),
    )


async def _staff_use(
    session: AsyncSession, ctx: BusinessContext, booked: dict[uuid.UUID, float], first: date, days: int
) -> list[StaffUse]:
    """Booked minutes against the minutes of each member's usual week over the window (their
    date overrides and time off are not subtracted: a first measure, said so on the page)."""
    staff, _ = await catalog.list_staff(session, ctx, catalog.Listing(cursor=None, limit=200))
    found = []
    for member in staff:
        week = await schedules.get_weekly_schedule(session, ctx, ScheduleOwner.staff(member.id))
        per_weekday = [0] * 7
        for weekly in week.hours:
            per_weekday[weekly.weekday] += weekly.span.end - weekly.span.start
        working = sum(per_weekday[(first + timedelta(days=d)).weekday()] for d in range(days))
        found.append(StaffUse(member.display_name, round(booked.get(member.id, 0)), working))
    return found


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
