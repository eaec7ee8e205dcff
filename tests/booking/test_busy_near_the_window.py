"""A search reads the busy time near its window, not each lane's whole history: row-level
security keeps range operators out of index conditions (none is leakproof), so the read
was bounded by the lane alone and grew with every booking the lane ever had. It is now
bounded by the allocation's stored start (migration 0030)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from booking_support import book, customer, open_bookable_shop
from booklnk.db.database import Database, set_tenant
from citus_cluster import not_on_citus

# The suite's clock is 2026-11-24 09:00 UTC; the search is for the next day (Cairo).
WINDOW = {"from": "2026-11-25T00:00:00+02:00", "to": "2026-11-26T00:00:00+02:00"}
PAST = 3_000

# Half an hour every hour, going back from three days before the window: the lane's history.
HISTORY = text(
    """
    INSERT INTO allocation (business_id, booking_id, lane, staff_id, period, active)
    SELECT a.business_id, a.booking_id, a.lane, a.staff_id,
           tstzrange(t, t + interval '30 minutes'), true
      FROM allocation a,
           generate_series(1, :past) AS i,
           LATERAL (SELECT timestamptz '2026-11-22 00:00Z' - make_interval(hours => i) AS t) AS at
     WHERE a.booking_id = :booking_id
    """
)


def _allocation_scans(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if node.get("Relation Name") == "allocation":
        yield node
    for child in node.get("Plans", []):
        yield from _allocation_scans(child)


@not_on_citus("it reads one PostgreSQL's plan; on Citus the scan is a worker's, inside Citus's task")
async def test_a_search_reads_the_busy_time_near_its_window_and_not_the_lanes_history(
    client: httpx.AsyncClient, db: Database, owner_engine: AsyncEngine
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    booked = await book(client, shop, mona, "2026-11-25T10:00:00+02:00")
    assert booked.status_code == 201, booked.text
    async with owner_engine.begin() as conn:
        await conn.execute(HISTORY, {"past": PAST, "booking_id": booked.json()["id"]})
        await conn.execute(text("ANALYZE allocation"))

    sent: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        if "FROM allocation" in args[2]:
            sent.append((args[2], args[3]))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        params = {"service_id": shop.service_id, "staff_id": shop.staff_ids[0], **WINDOW}
        found = await client.get(f"{shop.url}/availability", headers=mona.headers, params=params)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    assert found.status_code == 200, found.text
    assert "2026-11-25T10:00:00+02:00" not in [s["starts_at_local"] for s in found.json()["slots"]]
    ((statement, parameters),) = sent  # the calendars statement

    async with db.transaction(user_id=mona.user_id) as session:
        await set_tenant(session, shop.business_id)
        raw = (await (await session.connection()).get_raw_connection()).driver_connection
        assert raw is not None
        # (The app's connections decode json: SQLAlchemy's asyncpg dialect sets the codec.)
        plan = await raw.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", *parameters)
    scans = list(_allocation_scans(plan[0]["Plan"]))
    assert scans
    # Per lane (one here): the rows the scan took and those it read only to drop. The
    # window holds the one booking; before, all 3,001 allocations of the lane were read.
    read = [scan["Actual Rows"] + scan.get("Rows Removed by Filter", 0) for scan in scans]
    assert read == [1], read
