"""Work whose job is gone is picked up again: the periodic sweep queues a new job for a
delivery whose application ran out of retries and for a refund intent left `sending`,
and reconciliation counts a stored but unapplied delivery as not recorded. The app and
the real worker (procrastinate) in this process, the simulator over real HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from flow_support import (
    held_booking,
    major,
    money,
    ok,
    open_consultancy,
    post_webhook,
    reconcile_here,
    start_checkout,
    webhook_data,
)
from kashier_support import API_KEY, Sim
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from worker_support import lose_jobs, run_worker, with_kashier_at

from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.jobs.runtime import Runtime
from booklnk.jobs.tasks import SWEEP_STUCK_PAYMENTS
from booklnk.payments import refunds, webhooks
from booklnk.payments.kashier.client import KashierClient
from race_support import free_port
from support import Account, FakeClock, earlier

SWEEP = [(SWEEP_STUCK_PAYMENTS, {"timestamp": 0})]


@pytest.fixture
def runtime(db: Database, clock: FakeClock, settings: Settings, sim: Sim) -> Runtime:
    return Runtime(db, clock, with_kashier_at(settings, sim.url))


async def _paid_here_and_there(client: httpx.AsyncClient, sim: Sim) -> tuple[str, Account, dict[str, Any]]:
    """A booking paid at the simulator whose pay webhook is stored here (its job queued)."""
    consultancy = await open_consultancy(client)
    base, owner, _ = consultancy
    customer, booking = await held_booking(client, consultancy)
    checkout = await start_checkout(client, base, customer, booking)
    paid = await sim.pay(checkout["order_id"], checkout["amount_minor"])
    data = webhook_data(checkout["order_id"], paid["transactionId"], major(checkout["amount_minor"]))
    assert (await post_webhook(client, "pay", data, API_KEY)).status_code == 200
    return base, owner, {**checkout, "booking_id": booking["id"]}


AN_HOUR = "interval '1 hour'"


async def _age(engine: AsyncEngine, table: str, column: str) -> None:
    """Make the rows older than the sweep's grace period (it leaves brand-new work alone)."""
    async with engine.begin() as conn:
        await conn.execute(text(f"UPDATE {table} SET {column} = {earlier(column, AN_HOUR)}"))


async def _outcomes(engine: AsyncEngine, order_id: str) -> list[str | None]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT outcome FROM webhook_delivery WHERE merchant_order_id = :o ORDER BY id"),
            {"o": order_id},
        )
        return [r[0] for r in rows]


async def test_a_delivery_whose_application_ran_out_of_retries_is_applied_after_the_sweep(
    client: httpx.AsyncClient,
    sim: Sim,
    runtime: Runtime,
    database_url: str,
    owner_engine: AsyncEngine,
) -> None:
    _, _, checkout = await _paid_here_and_there(client, sim)
    assert await lose_jobs(owner_engine, webhooks.APPLY_WEBHOOK) == 1
    await run_worker(database_url, runtime)
    assert await _outcomes(owner_engine, checkout["order_id"]) == [None]  # nothing else would apply it

    await _age(owner_engine, "webhook_delivery", "received_at")
    await run_worker(database_url, runtime, SWEEP)
    assert await _outcomes(owner_engine, checkout["order_id"]) == ["confirmed"]
    assert (await money(owner_engine, checkout["order_id"]))[0] == [("capture", 15_001)]
    await run_worker(database_url, runtime, SWEEP)  # a second sweep finds nothing to do
    assert (await money(owner_engine, checkout["order_id"]))[0] == [("capture", 15_001)]


async def test_reconciliation_heals_a_delivery_stored_but_never_applied(
    client: httpx.AsyncClient,
    sim: Sim,
    db: Database,
    runtime: Runtime,
    database_url: str,
    owner_engine: AsyncEngine,
) -> None:
    base, owner, checkout = await _paid_here_and_there(client, sim)
    await lose_jobs(owner_engine, webhooks.APPLY_WEBHOOK)

    result = await reconcile_here(db, sim.url, base)
    assert (result.new_mismatches, result.healed) == (1, 1)  # stored is not recorded
    await run_worker(database_url, runtime)
    assert await _outcomes(owner_engine, checkout["order_id"]) == ["confirmed"]
    found = await ok(client, owner, "GET", f"{base}/reconciliation-runs/{result.run_id}/mismatches")
    assert [(m["kind"], m["healed"]) for m in found["items"]] == [("captured_not_recorded", True)]


async def test_a_refund_left_sending_is_looked_up_then_sent_once_after_the_sweep(
    client: httpx.AsyncClient,
    sim: Sim,
    db: Database,
    clock: FakeClock,
    settings: Settings,
    runtime: Runtime,
    database_url: str,
    owner_engine: AsyncEngine,
) -> None:
    base, owner, checkout = await _paid_here_and_there(client, sim)
    await run_worker(database_url, runtime)
    path = f"{base}/bookings/{checkout['booking_id']}/refunds"
    intent = await ok(client, owner, "POST", path, {"amount_minor": 6_000})
    # Kashier's refund API cannot be reached: the call fails, the intent stays `sending`,
    # and its job later runs out of retries.
    unreachable = with_kashier_at(settings, sim.url, fep_url=f"http://127.0.0.1:{free_port()}")
    await run_worker(database_url, Runtime(db, clock, unreachable))
    assert await _intent_status(owner_engine, intent["id"]) == "sending"
    assert await lose_jobs(owner_engine, refunds.SEND_REFUND) == 1

    await _age(owner_engine, "refund_intent", "updated_at")
    await run_worker(database_url, runtime, SWEEP)
    assert await _intent_status(owner_engine, intent["id"]) == "accepted"
    async with KashierClient(sim.config) as kashier:
        found = await kashier.lookup_order(checkout["order_id"])
    refunded = [t.amount_minor for t in getattr(found, "transactions", ()) if t.operation == "refund"]
    assert refunded == [6_000]  # sent once


async def _intent_status(engine: AsyncEngine, intent_id: str) -> str:
    async with engine.connect() as conn:
        status = await conn.scalar(
            text("SELECT status::text FROM refund_intent WHERE id = :i"), {"i": intent_id}
        )
    assert isinstance(status, str)
    return status
