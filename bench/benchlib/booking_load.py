"""Booking under load: (b) uncontended bookings of distinct free slots, (e) booking and
the stack ceiling in alternating slices, (c) the 200-client race, and the SQL audit."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from datetime import time as clock_time
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from benchlib.scenario import (
    BLOCK,
    BLOCKS_PER_DAY,
    CONCURRENCY,
    FREE_DAYS,
    OPENS,
    RACE_CLIENTS,
    RACE_DAY,
    RACE_SLOTS,
    SLICES,
    Budget,
)
from benchlib.shop import Shop
from benchlib.stats import LoopResult, closed_loop, latency


def free_slots(shop: Shop) -> Iterator[tuple[uuid.UUID, datetime]]:
    """Distinct (staff, start) pairs on untouched days, 45 minutes apart on each lane:
    none of them can conflict with another or with a seeded booking."""
    for day, block, staff_id in itertools.product(FREE_DAYS, range(BLOCKS_PER_DAY), shop.staff):
        yield staff_id, shop.at(day, OPENS) + block * BLOCK


def booking_body(shop: Shop, staff_id: uuid.UUID, start: datetime) -> dict[str, str]:
    return {"service_id": str(shop.service_id), "staff_id": str(staff_id), "starts_at": start.isoformat()}


def booker(http: httpx.AsyncClient, shop: Shop, first: int) -> Callable[[int], Awaitable[str]]:
    """op(i) books the (first + i)-th free slot; every call takes a slot no other took."""
    slots = list(free_slots(shop))

    async def book(i: int) -> str:
        staff_id, start = slots[first + i]
        customer = shop.customers[(first + i) % len(shop.customers)]
        response = await http.post(
            f"{shop.url}/bookings", json=booking_body(shop, staff_id, start), headers=customer.headers
        )
        return str(response.status_code)

    return book


async def uncontended(http: httpx.AsyncClient, shop: Shop, budget: Budget) -> tuple[dict[str, Any], int, int]:
    """Bookings of distinct free slots, CONCURRENCY in flight, for a fixed time. A short
    warm-up on the first slots comes first (its bookings count in the audit only).
    Returns the summary, the bookings made and the free slots used."""
    warmup = 2 * CONCURRENCY
    warm = await closed_loop(booker(http, shop, 0), concurrency=CONCURRENCY, seconds=60, limit=warmup)
    result = await closed_loop(
        booker(http, shop, warmup),
        concurrency=CONCURRENCY,
        seconds=budget.uncontended_seconds,
        limit=len(list(free_slots(shop))) - warmup,
    )
    used = warmup + sum(result.outcomes.values())
    return result.summary("201"), warm.outcomes["201"] + result.outcomes["201"], used


async def interleaved(
    http: httpx.AsyncClient, shop: Shop, stack_url: str, first_slot: int, budget: Budget
) -> tuple[dict[str, Any], int]:
    """(e) The booking/stack ratio again, from alternating slices of equal length (booking,
    stack, booking, ...). The machine is shared: a job starting or stopping elsewhere moves
    both figures alike, where (b) and (d) ran a minute apart. Returns the summary and the
    bookings made."""
    booked, stacked = LoopResult(elapsed=0.0), LoopResult(elapsed=0.0)
    slot, row = first_slot, 3 * 10**8
    limit = len(list(free_slots(shop)))
    for _ in range(SLICES):
        part = await closed_loop(
            booker(http, shop, slot),
            concurrency=CONCURRENCY,
            seconds=budget.slice_seconds,
            limit=limit - slot,
        )
        slot += sum(part.outcomes.values())

        async def post(n: int, base: int = row) -> str:
            return str((await http.post(f"{stack_url}/insert/{base + n}")).status_code)

        ceiling = await closed_loop(post, concurrency=CONCURRENCY, seconds=budget.slice_seconds, limit=10**7)
        row += 10**7
        for total, piece in ((booked, part), (stacked, ceiling)):
            total.elapsed += piece.elapsed
            total.latencies += piece.latencies
            total.outcomes.update(piece.outcomes)
    booking, stack = booked.summary("201"), stacked.summary("201")
    summary = {
        "slices": SLICES,
        "slice_seconds": budget.slice_seconds,
        "booking": booking,
        "stack": stack,
        "booking_vs_stack": booking["per_second"] / stack["per_second"],
    }
    return summary, booked.outcomes["201"]


async def contended(http: httpx.AsyncClient, shop: Shop) -> tuple[dict[str, Any], list[uuid.UUID]]:
    """200 customers at once on 20 slots (10 per slot: staff i at 12:00 on RACE_DAY)."""
    targets = [(shop.staff[i], shop.at(RACE_DAY, clock_time(12))) for i in range(RACE_SLOTS)]
    # Open every connection first, so the race measures requests, not TCP handshakes.
    await asyncio.gather(*(http.get("/healthz") for _ in range(RACE_CLIENTS)))
    gate = asyncio.Event()

    async def client(k: int) -> tuple[float, httpx.Response]:
        staff_id, start = targets[k % RACE_SLOTS]
        await gate.wait()
        began = time.perf_counter()
        response = await http.post(
            f"{shop.url}/bookings",
            json=booking_body(shop, staff_id, start),
            headers=shop.customers[k].headers,
        )
        return time.perf_counter() - began, response

    tasks = [asyncio.create_task(client(k)) for k in range(RACE_CLIENTS)]
    await asyncio.sleep(0.05)  # let every task reach the gate
    began = time.perf_counter()
    gate.set()
    done = await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - began
    statuses = Counter(str(r.status_code) for _, r in done)
    conflicts = sum(1 for _, r in done if r.status_code == 409 and r.json().get("code") == "slot_unavailable")
    winners = [uuid.UUID(r.json()["id"]) for _, r in done if r.status_code == 201]
    figures = {
        "clients": RACE_CLIENTS,
        "slots": RACE_SLOTS,
        "seconds": elapsed,
        "per_second": RACE_CLIENTS / elapsed,
        "statuses": dict(statuses),
        "created": statuses["201"],
        "conflicts_409_slot_unavailable": conflicts,
        **latency([t for t, _ in done]),
    }
    return figures, winners


# Any two active allocations of one lane overlapping in time. Sorting by start and keeping
# the running maximum end catches every overlap in O(n log n), not just adjacent pairs.
OVERLAPS_SQL = text(
    """
    SELECT count(*) FROM (
      SELECT lower(period) AS starts, max(upper(period)) OVER (
        PARTITION BY lane ORDER BY lower(period), booking_id
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier_end
      FROM allocation WHERE active) s
    WHERE earlier_end > starts
    """
)


async def audit(engine: AsyncEngine, shop: Shop, winners: list[uuid.UUID], created: int) -> dict[str, Any]:
    """The race's verdict from the database, and the whole run's booking count."""
    start = shop.at(RACE_DAY, clock_time(12)).astimezone(UTC)
    async with engine.connect() as conn:
        overlaps = (await conn.execute(OVERLAPS_SQL)).scalar_one()
        rows = await conn.execute(
            text(
                "SELECT b.id, b.staff_id FROM booking b JOIN allocation a"
                " ON a.business_id = b.business_id AND a.booking_id = b.id AND a.active"
                " WHERE b.business_id = :b AND b.starts_at = :t AND b.status IN ('held', 'confirmed')"
            ),
            {"b": shop.business_id, "t": start},
        )
        race = rows.all()
        total = (
            await conn.execute(
                text("SELECT count(*) FROM booking WHERE business_id = :b"), {"b": shop.business_id}
            )
        ).scalar_one()
    per_slot = Counter(row.staff_id for row in race)
    return {
        "overlapping_active_allocations": overlaps,
        "race_bookings_in_db": len(race),
        "race_slots_booked_exactly_once": sum(1 for n in per_slot.values() if n == 1),
        "race_db_matches_201s": sorted(row.id for row in race) == sorted(winners),
        "bookings_in_db": total,
        "bookings_expected": created,
    }
