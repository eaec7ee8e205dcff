"""What the allocations and bookings say about who occupies what, read for the writers
(no writes): holds past their expiry, the lapsed holds still blocking a time, the lanes
busy at a time, and the resources each booking or class session holds."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking.models import Allocation, Booking, BookingStatus
from booklnk.scheduling.intervals import Interval


async def lapsed_holds(
    session: AsyncSession,
    business_id: uuid.UUID,
    now: datetime,
    *,
    limit: int,
    session_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Held bookings past their expiry (of one class session, if given), oldest first."""
    stmt = (
        select(Booking.id)
        .where(
            Booking.business_id == business_id,
            Booking.status == BookingStatus.HELD,
            Booking.hold_expires_at <= now,
        )
        .order_by(Booking.hold_expires_at)
        .limit(limit)
    )
    if session_id is not None:
        stmt = stmt.where(Booking.session_id == session_id)
    return list((await session.execute(stmt)).scalars())


async def lapsed_holds_in_the_way(
    session: AsyncSession, business_id: uuid.UUID, lanes: Sequence[int], period: Interval, now: datetime
) -> list[uuid.UUID]:
    """The lapsed holds whose allocations still block `period` on `lanes`."""
    lapsed = (
        select(Allocation.booking_id)
        .join(
            Booking, and_(Booking.business_id == Allocation.business_id, Booking.id == Allocation.booking_id)
        )
        .where(
            Allocation.business_id == business_id,
            Allocation.lane.in_(list(lanes)),
            *Allocation.starting_near(period.start, period.end),
            Allocation.active.is_(True),
            Allocation.period.overlaps(Range(period.start, period.end)),
            Booking.status == BookingStatus.HELD,
            Booking.hold_expires_at <= now,
        )
    )
    return [booking_id for booking_id in (await session.execute(lapsed)).scalars() if booking_id is not None]


async def busy_lanes(
    session: AsyncSession, business_id: uuid.UUID, lanes: Sequence[int], period: Interval
) -> set[int]:
    """Which of `lanes` an active allocation blocks during `period` (to name what is busy)."""
    stmt = select(Allocation.lane).where(
        Allocation.business_id == business_id,
        Allocation.lane.in_(list(lanes)),
        *Allocation.starting_near(period.start, period.end),
        Allocation.active.is_(True),
        Allocation.period.overlaps(Range(period.start, period.end)),
    )
    return set((await session.execute(stmt)).scalars())


async def booking_resources(
    session: AsyncSession, business_id: uuid.UUID, booking_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    return await _resources(session, business_id, Allocation.booking_id, booking_ids)


async def session_resources(
    session: AsyncSession, business_id: uuid.UUID, session_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    return await _resources(session, business_id, Allocation.session_id, session_ids)


async def _resources(
    session: AsyncSession, business_id: uuid.UUID, holder: Any, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The resources (not staff) each holder's allocations name, active or not."""
    if not ids:
        return {}
    stmt = (
        select(holder, Allocation.resource_id)
        .where(
            Allocation.business_id == business_id, holder.in_(list(ids)), Allocation.resource_id.is_not(None)
        )
        .order_by(holder, Allocation.resource_id)
    )
    found: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for owner_id, resource_id in (await session.execute(stmt)).all():
        if resource_id is not None:
            found[owner_id].append(resource_id)
    return found
