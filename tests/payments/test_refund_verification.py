"""A refund that no intent of ours accounts for is checked at the gateway before it is
recorded; while that lookup fails, nothing is recorded and the job fails, so its retry
asks again. In-process: the app and the worker's task body (`settlement.apply`) on the
test database, the simulator over real HTTP with a one-second client timeout."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from flow_support import (
    held_booking,
    major,
    money,
    open_consultancy,
    post_webhook,
    start_checkout,
    webhook_data,
)
from kashier_support import API_KEY, Sim
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.db.database import Database
from booklnk.payments import settlement
from booklnk.payments.kashier.client import KashierClient, KashierTimeout, OrderLookup, RefundAccepted
from support import FakeClock


@pytest.fixture
async def kashier(sim: Sim) -> AsyncIterator[KashierClient]:
    async with KashierClient(sim.config) as client:
        yield client


async def _unapplied(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT id FROM webhook_delivery WHERE applied_at IS NULL ORDER BY id")
        )
        return [int(r[0]) for r in rows]


async def _paid_order(client: httpx.AsyncClient, sim: Sim) -> dict[str, Any]:
    """A booking paid at the simulator, its pay webhook stored here (not yet applied)."""
    consultancy = await open_consultancy(client)
    customer, booking = await held_booking(client, consultancy)
    checkout = await start_checkout(client, consultancy[0], customer, booking)
    paid = await sim.pay(checkout["order_id"], checkout["amount_minor"])
    data = webhook_data(checkout["order_id"], paid["transactionId"], major(checkout["amount_minor"]))
    assert (await post_webhook(client, "pay", data, API_KEY)).status_code == 200
    return checkout


async def test_a_refund_whose_lookup_times_out_is_not_recorded_until_the_gateway_answers(
    client: httpx.AsyncClient,
    db: Database,
    clock: FakeClock,
    sim: Sim,
    kashier: KashierClient,
    owner_engine: AsyncEngine,
) -> None:
    async def lookup(order_id: str) -> OrderLookup:
        return await kashier.lookup_order(order_id)

    checkout = await _paid_order(client, sim)
    order_id = checkout["order_id"]
    [pay_delivery] = await _unapplied(owner_engine)
    assert await settlement.apply(db, pay_delivery, now=clock.now(), lookup=lookup) is not None
    refunded = await kashier.refund(order_id, 2_500, "EGP")  # at the gateway, not through us
    assert isinstance(refunded, RefundAccepted)
    data = webhook_data(order_id, refunded.transaction_id, major(2_500))
    assert (await post_webhook(client, "refund", data, API_KEY)).status_code == 200
    [refund_delivery] = await _unapplied(owner_engine)

    await sim.faults(order_id, lookup_delay_seconds=3)  # beyond the client's one second
    with pytest.raises(KashierTimeout):
        await settlement.apply(db, refund_delivery, now=clock.now(), lookup=lookup)
    assert await _unapplied(owner_engine) == [refund_delivery]
    assert (await money(owner_engine, order_id))[0] == [("capture", 15_001)]

    await sim.faults(order_id)  # the gateway answers again: the retry records it
    applied = await settlement.apply(db, refund_delivery, now=clock.now(), lookup=lookup)
    assert applied is not None
    assert applied.outcome == "refund_recorded"
    assert sorted((await money(owner_engine, order_id))[0]) == [("capture", 15_001), ("refund", 2_500)]
