"""Reading a business's calendar for the engine: the resources a service needs and the
busy time on staff and resources, in a bounded number of queries whatever the window."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import BigInteger, any_, bindparam, exists, func, select
from sqlalchemy.dialects.postgresql import ARRAY, TSTZRANGE, Range
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking.models import Allocation, Booking, BookingStatus
from booklnk.catalog.models import Resource
from booklnk.catalog.schedule_rules import DayOverride, WeeklySchedule
from booklnk.scheduling.intervals import Interval

OwnerKey = tuple[str, uuid.UUID | None]  # ("business", None) | ("staff", id) | ("resource", id)


@dataclass
class OwnerCalendar:
    """One schedule owner's raw calendar over the loaded window."""

    week: WeeklySchedule = field(default_factory=WeeklySchedule)
    overrides: list[DayOverride] = field(default_factory=list)
    time_off: list[Interval] = field(default_factory=list)
    busy: list[tuple[datetime, datetime]] = field(default_factory=list)  # UTC (start, end) pairs


async def resources_of_kinds(
    session: AsyncSession, business_id: uuid.UUID, kinds: Sequence[str]
) -> Sequence[Resource]:
    if not kinds:
        return []
    stmt = (
        select(Resource)
        .where(Resource.business_id == business_id, Resource.kind.in_(kinds), Resource.active.is_(True))
        .order_by(Resource.name, Resource.id)
    )
    return (await session.execute(stmt)).scalars().all()


# Lapsed holds block no more (even before the worker or a new booking releases them): an
# anti-join on them is cheaper than joining every booking. A class session's allocations
# have no booking and always count. Built once; bounds, not Range objects, and one array
# parameter for the lanes: a busy "any staff" search returns thousands of rows.
_BUSY = select(Allocation.lane, func.lower(Allocation.period), func.upper(Allocation.period)).where(
    Allocation.business_id == bindparam("business_id"),
    Allocation.lane == any_(bindparam("lanes", type_=ARRAY(BigInteger))),
    Allocation.active.is_(True),
    Allocation.period.overlaps(bindparam("span", type_=TSTZRANGE)),
    ~exists().where(
        Booking.business_id == Allocation.business_id,
        Booking.id == Allocation.booking_id,
        Booking.status == BookingStatus.HELD,
        Booking.hold_expires_at <= bindparam("now"),
    ),
)


async def load_busy(
    session: AsyncSession,
    business_id: uuid.UUID,
    lanes: dict[int, OwnerKey],
    span: Interval,
    now: datetime,
    out: dict[OwnerKey, OwnerCalendar],
) -> None:
    """The blocked periods on `lanes` within `span`, added to each owner's calendar."""
    if not lanes:
        return
    params = {
        "business_id": business_id,
        "lanes": list(lanes),
        "span": Range(span.start, span.end),
        "now": now,
    }
    for lane, start, end in await session.execute(_BUSY, params):
        out[lanes[lane]].busy.append((start, end))
