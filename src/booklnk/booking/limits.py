"""One customer cannot hold a business's calendar: at most N unpaid holds at once, and at
most M bookings starting on one local day, per business (the type's rules, overridable).
Staff and owners booking on a customer's behalf are exempt.

Under concurrency: the customer's requests to one business queue on a transaction-level
advisory lock taken before counting, and held until the booking that the count allowed
is committed (or rolled back). The count runs in a statement of its own after the lock
is granted: in READ COMMITTED a statement sees what was committed when it began, so a
count in the locking statement would miss the booking it waited for. Both statements run
in one round trip, inside the SQL function `booklnk_customer_load` (migration 0029).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking.lifecycle import BLOCKING
from booklnk.kernel.errors import Conflict
from booklnk.scheduling.localtime import day_start
from booklnk.tenancy.context import BusinessContext


class TooManyHolds(Conflict):
    code = "too_many_holds"


class DailyLimitReached(Conflict):
    code = "daily_limit_reached"


_LOAD = text(
    "SELECT holds, that_day FROM booklnk_customer_load(:key, :business_id, :customer_id,"
    " CAST(:blocking AS booking_status[]), :now, :day_start, :day_end)"
)
_BLOCKING = sorted(status.value for status in BLOCKING)


async def check_customer_limits(
    session: AsyncSession,
    ctx: BusinessContext,
    customer_id: uuid.UUID,
    starts_at: datetime,
    *,
    held: bool,
    now: datetime,
) -> None:
    """409 when one more booking (a hold, if `held`) at `starts_at` would take the customer
    past the business's limits; otherwise the customer's other requests now wait for this
    transaction. Staff are exempt."""
    if ctx.is_staff:
        return
    zone = ZoneInfo(ctx.time_zone)
    day = starts_at.astimezone(zone).date()
    holds, that_day = (
        await session.execute(
            _LOAD,
            {
                "key": f"booking-limits:{ctx.business_id}:{customer_id}",
                "business_id": ctx.business_id,
                "customer_id": customer_id,
                "blocking": _BLOCKING,
                "now": now,
                "day_start": day_start(day, zone),
                "day_end": day_start(day + timedelta(days=1), zone),
            },
        )
    ).one()
    rules = ctx.rules
    if held and holds >= rules.max_unpaid_holds_per_customer:
        raise TooManyHolds(
            f"You already hold {holds} unpaid bookings here; pay for one or let it go first.",
            extra={"rule": "max_unpaid_holds_per_customer", "limit": rules.max_unpaid_holds_per_customer},
        )
    if that_day >= rules.max_bookings_per_customer_per_day:
        raise DailyLimitReached(
            f"You already have {that_day} bookings here on {day.isoformat()}.",
            extra={
                "rule": "max_bookings_per_customer_per_day",
                "limit": rules.max_bookings_per_customer_per_day,
            },
        )
