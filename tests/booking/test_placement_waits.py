"""Who waits for whom when placements meet: a placement that finds its time taken by a
transaction still in progress waits for that transaction without keeping its own
allocation in the index meanwhile, so the transaction it waits for is never made to wait
for it in turn. (A plain INSERT checks the exclusion constraint only once its entry is in
the index: two overlapping racers then wait for each other, PostgreSQL breaks the deadlock
only after `deadlock_timeout`, and a crowd racing for one time broke them one at a time,
a second each: rounds of the race tests took 30 to 40 s and clients timed out.)"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from booking_support import open_bookable_shop
from booklnk.booking import repository
from booklnk.booking.models import Booking, BookingStatus
from booklnk.db.database import Database
from booklnk.db.errors import sqlstate
from booklnk.scheduling.intervals import Interval
from citus_cluster import not_on_citus

TEN = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # 10:00 in Cairo, the day after the suite's clock
WAITING_SQL = text(
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    " AND strpos(query, 'INSERT INTO allocation') > 0"
)


async def _until_a_placement_waits(engine: AsyncEngine) -> None:
    for _ in range(200):
        # A transaction of its own each time: pg_stat_activity holds still within one.
        async with engine.connect() as conn:
            if await conn.scalar(WAITING_SQL):
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the second placement never waited for the first")


@not_on_citus("the placements wait on a worker, where the coordinator's pg_stat_activity does not look")
async def test_a_placement_waiting_for_a_taken_time_blocks_nobody(
    client: httpx.AsyncClient, db: Database, owner_engine: AsyncEngine
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    staff_id = uuid.UUID(shop.staff_ids[0])
    async with owner_engine.connect() as conn:
        lane = await conn.scalar(text("SELECT lane FROM staff_member WHERE id = :id"), {"id": staff_id})

    async def place(session: AsyncSession, minutes_after_ten: int) -> str:
        """Half an hour with the one barber, as the booking writer places it."""
        start = TEN + timedelta(minutes=minutes_after_ten)
        booking = Booking(
            business_id=shop.business_id,
            id=uuid.uuid4(),
            customer_id=None,
            guest_name="Walk-in",
            service_id=uuid.UUID(shop.service_id),
            staff_id=staff_id,
            session_id=None,
            status=BookingStatus.CONFIRMED,
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
            hold_expires_at=None,
            payment_method=None,
            price_minor=0,
            deposit_minor=0,
            currency="EGP",
            extra_fields={},
            version=1,
        )
        placement = repository.Placement(
            business_id=shop.business_id,
            booking_id=booking.id,
            staff_id=staff_id,
            resource_ids=[],
            lanes=[lane],
            blocked=Interval(booking.starts_at, booking.ends_at),
        )
        try:
            async with session.begin_nested():
                await repository.insert_booking(session, booking, placement, repository.Audit(None, TEN))
        except repository.LaneTaken:
            return "taken"
        except DBAPIError as exc:
            return f"refused with SQLSTATE {sqlstate(exc)}"  # 40P01: a deadlock
        return "placed"

    async def latecomer() -> str:
        async with db.transaction(tenant_id=shop.business_id) as session:
            return await place(session, 15)  # 10:15-10:45: waits for the first transaction

    async with db.transaction(tenant_id=shop.business_id) as first:
        assert await place(first, 0) == "placed"  # 10:00-10:30, not committed yet
        racer = asyncio.create_task(latecomer())
        await _until_a_placement_waits(owner_engine)
        # 10:30-11:00 meets only the latecomer's time: nothing of it may stand in the way.
        assert await place(first, 30) == "placed"
    # The first transaction committed: the latecomer's time was taken, and it is told so.
    assert await racer == "taken"
