"""Every fault the simulator can inject, alone and at random over many orders: after the
webhooks settle and a reconciliation runs, every order ends as a fault-free delivery
would have left it, and the ledger's sums equal the gateway's totals, order by order.

Runs against two server processes and two worker processes (the `api` fixture)."""

from __future__ import annotations

import asyncio
import os
import random
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from flow_support import (
    CAIRO,
    CARD,
    booking_status,
    held_booking,
    ok,
    pay,
    reconcile_cli,
    set_faults,
    start_checkout,
    until,
)
from kashier_support import SECRET_KEY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from support import Account

ORDERS = 12
FAULTS: list[dict[str, Any]] = [
    {},
    {"duplicates": 2},
    {"hold": True},
    {"delay_seconds": 0.5},
    {"drop": True},
    {"wrong_signature": True},
    {"duplicates": 1, "hold": True},
    {"duplicates": 3, "delay_seconds": 0.3},
]


async def _gateway_totals(simulator_url: str, order_id: str) -> tuple[int, int]:
    async with httpx.AsyncClient() as sim:
        found = await sim.get(
            f"{simulator_url}/payments/orders/{order_id}", headers={"Authorization": SECRET_KEY}
        )
    response = found.json()["response"]
    return (
        int(Decimal(str(response["totalCapturedAmount"])) * 100),
        int(Decimal(str(response["totalRefundedAmount"])) * 100),
    )


async def _ledger(engine: AsyncEngine, order_id: str) -> tuple[int, int]:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT coalesce(sum(l.amount_minor) FILTER (WHERE l.kind = 'capture'), 0),"
                    " coalesce(sum(l.amount_minor) FILTER (WHERE l.kind = 'refund'), 0)"
                    " FROM payment_attempt a LEFT JOIN ledger_entry l"
                    "  ON l.business_id = a.business_id AND l.attempt_id = a.id"
                    " WHERE a.order_id = :o"
                ),
                {"o": order_id},
            )
        ).one()
    return int(row[0]), int(row[1])


async def _settle_simulator(simulator_url: str) -> None:
    """Held-back webhooks released, then nothing left to deliver."""
    async with httpx.AsyncClient() as sim:
        for _ in range(200):
            await sim.post(f"{simulator_url}/__sim/outbox/release")
            if (await sim.get(f"{simulator_url}/__sim/outbox")).json()["pending"] == 0:
                return
            await asyncio.sleep(0.1)
    pytest.fail("the simulator's outbox did not drain")


async def _settle_and_reconcile(simulator_url: str, database_url: str, kashier_env: dict[str, str]) -> None:
    """Let the simulator deliver what it will, then reconcile today: what it dropped or
    sent unverifiable reaches us through the lookup API."""
    await _settle_simulator(simulator_url)
    await asyncio.to_thread(reconcile_cli, database_url, kashier_env, datetime.now(CAIRO).date().isoformat())


@pytest.mark.parametrize("faults", FAULTS, ids=lambda f: ",".join(f) or "none")
async def test_each_fault_alone_ends_as_a_clean_delivery_would(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
    database_url: str,
    kashier_env: dict[str, str],
    faults: dict[str, Any],
) -> None:
    base, owner, _ = consultancy
    customer, booking = await held_booking(http, consultancy)
    checkout = await start_checkout(http, base, customer, booking)
    await set_faults(simulator_url, checkout["order_id"], **faults)
    await pay(simulator_url, checkout, **CARD)
    await _settle_and_reconcile(simulator_url, database_url, kashier_env)
    # Then a refund, through the same faults (its webhook may overtake a held-back one).
    await until(lambda: booking_status(http, base, customer, booking["id"]), "confirmed")
    await ok(http, owner, "POST", f"{base}/bookings/{booking['id']}/refunds", {"amount_minor": 4_000})
    await asyncio.sleep(1)
    await _settle_and_reconcile(simulator_url, database_url, kashier_env)

    status = await until(lambda: booking_status(http, base, customer, booking["id"]), "confirmed")
    assert status == "confirmed"
    gateway = await _gateway_totals(simulator_url, checkout["order_id"])
    assert gateway == (15_001, 4_000)
    assert await until(lambda: _ledger(owner_engine, checkout["order_id"]), gateway) == gateway


async def test_a_random_mix_of_faults_over_many_orders_ends_clean(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
    database_url: str,
    kashier_env: dict[str, str],
) -> None:
    seed = int(os.environ.get("BOOKLNK_FAULT_SEED") or random.randrange(2**32))
    print(f"fault seed: {seed}  (BOOKLNK_FAULT_SEED={seed} replays it)")
    rng = random.Random(seed)
    base, owner, _ = consultancy
    orders = []
    for _ in range(ORDERS):
        customer, booking = await held_booking(http, consultancy)
        checkout = await start_checkout(http, base, customer, booking)
        faults = {
            "duplicates": rng.choice([0, 0, 1, 3]),
            "hold": rng.random() < 0.3,
            "delay_seconds": rng.choice([0, 0, 0.2, 0.6]),
            "drop": rng.random() < 0.2,
            "wrong_signature": rng.random() < 0.1,
        }
        await set_faults(simulator_url, checkout["order_id"], **faults)
        refund = rng.choice([0, 0, 1_000, 15_001])
        orders.append((customer, booking, checkout, refund))
    await asyncio.gather(*(pay(simulator_url, checkout, **CARD) for _, _, checkout, _ in orders))
    await _settle_and_reconcile(simulator_url, database_url, kashier_env)
    for customer, booking, _, refund in orders:
        await until(lambda b=booking, c=customer: booking_status(http, base, c, b["id"]), "confirmed")
        if refund:
            path = f"{base}/bookings/{booking['id']}/refunds"
            await ok(http, owner, "POST", path, {"amount_minor": refund})
    await asyncio.sleep(1.5)
    await _settle_and_reconcile(simulator_url, database_url, kashier_env)

    for customer, booking, checkout, refund in orders:
        status = await until(
            lambda b=booking, c=customer: booking_status(http, base, c, b["id"]), "confirmed"
        )
        assert status == "confirmed", (seed, checkout["order_id"])
        gateway = await _gateway_totals(simulator_url, checkout["order_id"])
        assert gateway == (15_001, refund), seed
        ledger = await until(lambda c=checkout: _ledger(owner_engine, c["order_id"]), gateway)
        assert ledger == gateway, (seed, checkout["order_id"])
