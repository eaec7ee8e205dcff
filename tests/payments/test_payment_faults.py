"""Every fault the simulator can inject, alone and at random over many orders: after the
webhooks settle and a reconciliation runs, every order ends as a fault-free delivery
would have left it, and the ledger's sums equal the gateway's totals, order by order.

The random mix plays one seeded scenario twice, without faults and with them, and
compares the two end states order by order. Runs against two server processes and two
worker processes (the `api` fixture)."""

from __future__ import annotations

import asyncio
import os
import random
import time
from dataclasses import dataclass, field
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
    money,
    ok,
    pay,
    reconcile_cli,
    reconcile_here,
    set_faults,
    start_checkout,
    until,
)
from kashier_support import SECRET_KEY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.db.database import Database
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


# --- the random mix, against a fault-free run of the same scenario ---------------------------

DECLINED = {**CARD, "expiry": "02/39"}  # the simulator's declining expiry month
SLOW_LOOKUP = {"lookup_delay_seconds": 3}  # reconcile_here's client gives up after 1 s
QUIET_SECONDS = 40


@dataclass(frozen=True)
class Plan:
    """One order of the scenario: how it is paid, what goes wrong, what is refunded."""

    kind: str  # card | declined | failure_then_success | fawry
    faults: dict[str, Any] = field(default_factory=dict)  # the simulator's webhook faults
    slow_lookup: bool = False
    refund: int = 0

    @property
    def paid(self) -> bool:
        return self.kind != "declined"


def scenario(seed: int) -> list[Plan]:
    """The seed's orders: one of each thing that must work, then a random mix."""
    rng = random.Random(seed)

    def faults() -> dict[str, Any]:
        return {
            "duplicates": rng.choice([0, 0, 1, 3]),
            "hold": rng.random() < 0.3,
            "delay_seconds": rng.choice([0, 0, 0.2, 0.6]),
            "drop": rng.random() < 0.2,
            "wrong_signature": rng.random() < 0.1,
        }

    plans = [
        Plan("card", {"hold": True}, refund=1_000),  # its refund overtakes the held-back payment
        Plan("failure_then_success", {"hold": True}),  # FAILURE delivered after SUCCESS
        Plan("declined", {**faults(), "drop": True}),  # only the lookup knows it failed
        Plan(
            "fawry", {**faults(), "wrong_signature": True}, refund=rng.choice([0, 1_000])
        ),  # PENDING, then paid
        Plan("card", {"drop": True}, slow_lookup=True, refund=15_001),  # only a slow lookup knows
    ]
    kinds = ["card", "card", "declined", "failure_then_success", "fawry"]
    for _ in range(ORDERS - len(plans)):
        kind = rng.choice(kinds)
        refund = 0 if kind == "declined" else rng.choice([0, 0, 1_000, 15_001])
        plans.append(Plan(kind, faults(), slow_lookup=rng.random() < 0.2, refund=refund))
    return plans


@dataclass(frozen=True)
class Placed:
    plan: Plan
    customer: Account
    booking_id: str
    checkout: dict[str, Any]

    @property
    def order_id(self) -> str:
        return str(self.checkout["order_id"])


class Mix:
    """Plays a scenario against the live stack, with or without its faults."""

    def __init__(
        self, http: httpx.AsyncClient, consultancy: tuple[str, Account, str], simulator_url: str, db: Database
    ) -> None:
        self.http, self.consultancy, self.sim, self.db = http, consultancy, simulator_url, db
        self.base, self.owner = consultancy[0], consultancy[1]

    async def play(self, plans: list[Plan], engine: AsyncEngine, *, faulty: bool) -> list[Placed]:
        placed = [await self._place(plan) for plan in plans]
        if faulty:
            for order in placed:
                slow = SLOW_LOOKUP if order.plan.slow_lookup else {}
                await set_faults(self.sim, order.order_id, **order.plan.faults, **slow)
        await asyncio.gather(*(self._pay(order) for order in placed))
        await self._reconcile(placed, engine)  # what was lost is healed; slow lookups fail
        if faulty:
            for order in placed:  # Kashier's lookup answers again
                await set_faults(self.sim, order.order_id, **order.plan.faults)
        await self._reconcile(placed, engine)
        for order in placed:
            if order.plan.paid:
                await until(lambda o=order: self._status(o), "confirmed")
        # Refunds go out while held-back webhooks still wait: refund before pay reaches us.
        for order in placed:
            if order.plan.refund:
                path = f"{self.base}/bookings/{order.booking_id}/refunds"
                await ok(self.http, self.owner, "POST", path, {"amount_minor": order.plan.refund})
        await _quiet(self.sim, engine, placed)
        await _settle_simulator(self.sim)
        await self._reconcile(placed, engine)  # refund webhooks dropped or refused
        await self._reconcile(placed, engine)  # after healing: only what is still wrong stays open
        return placed

    async def _place(self, plan: Plan) -> Placed:
        method = "fawry" if plan.kind == "fawry" else "card"
        customer, booking = await held_booking(self.http, self.consultancy, method=method)
        checkout = await start_checkout(self.http, self.base, customer, booking, method=method)
        return Placed(plan, customer, booking["id"], checkout)

    async def _pay(self, order: Placed) -> None:
        kind = order.plan.kind
        if kind in ("declined", "failure_then_success"):
            await pay(self.sim, order.checkout, **DECLINED)
        if kind in ("card", "failure_then_success"):
            await pay(self.sim, order.checkout, **CARD)  # the same order again, as the hosted page allows
        if kind == "fawry":
            await pay(self.sim, order.checkout, method="fawry")
            async with httpx.AsyncClient() as sim:
                paid = await sim.post(f"{self.sim}/__sim/orders/{order.order_id}/fawry/paid")
                assert paid.status_code == 200, paid.text

    async def _status(self, order: Placed) -> str:
        return await booking_status(self.http, self.base, order.customer, order.booking_id)

    async def _reconcile(self, placed: list[Placed], engine: AsyncEngine) -> None:
        await _quiet(self.sim, engine, placed)
        await reconcile_here(self.db, self.sim, self.base)
        await _quiet(self.sim, engine, placed)

    async def end_state(self, order: Placed, engine: AsyncEngine) -> dict[str, Any]:
        """What the order ended as, in every place it shows."""
        found = await ok(self.http, self.owner, "GET", f"{self.base}/bookings/{order.booking_id}/payments")
        return {
            "attempt": [a["status"] for a in found["attempts"]],
            "booking": await self._status(order),
            "ledger": sorted((await money(engine, order.order_id))[0]),
            "refunds": sorted((r["amount_minor"], r["status"]) for r in found["refunds"]),
            "open_mismatches": await _open_mismatches(engine, order.order_id),
        }


async def _quiet(simulator_url: str, engine: AsyncEngine, placed: list[Placed]) -> None:
    """Nothing left to deliver (held-back webhooks aside), to apply, or to send."""
    ids = [order.order_id for order in placed]
    deadline = time.monotonic() + QUIET_SECONDS
    async with httpx.AsyncClient() as sim:
        while time.monotonic() < deadline:
            pending = (await sim.get(f"{simulator_url}/__sim/outbox")).json()["pending"]
            if pending == 0 and await _busy(engine, ids) == 0:
                return
            await asyncio.sleep(0.1)
    pytest.fail("the payments did not settle")


async def _busy(engine: AsyncEngine, order_ids: list[str]) -> int:
    """Deliveries not yet applied and refunds not yet sent, for these orders."""
    async with engine.connect() as conn:
        found = await conn.scalar(
            text(
                "SELECT (SELECT count(*) FROM webhook_delivery WHERE applied_at IS NULL"
                "   AND merchant_order_id = ANY(:o))"
                " + (SELECT count(*) FROM refund_intent i JOIN payment_attempt a"
                "   ON a.business_id = i.business_id AND a.id = i.attempt_id"
                "   WHERE a.order_id = ANY(:o) AND i.status IN ('requested', 'sending'))"
            ),
            {"o": order_ids},
        )
    return int(found or 0)


async def _open_mismatches(engine: AsyncEngine, order_id: str) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT kind::text FROM reconciliation_mismatch"
                " WHERE order_id = :o AND resolved_at IS NULL ORDER BY kind"
            ),
            {"o": order_id},
        )
        return [r[0] for r in rows]


async def test_a_random_mix_of_faults_ends_as_the_same_scenario_without_faults(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
    shared_db: Database,
) -> None:
    seed = int(os.environ.get("BOOKLNK_FAULT_SEED") or random.randrange(2**32))
    print(f"fault seed: {seed}  (BOOKLNK_FAULT_SEED={seed} replays it)")
    plans = scenario(seed)
    mix = Mix(http, consultancy, simulator_url, shared_db)

    clean = await mix.play(plans, owner_engine, faulty=False)
    faulty = await mix.play(plans, owner_engine, faulty=True)

    for plan, without, with_faults in zip(plans, clean, faulty, strict=True):
        expected = await mix.end_state(without, owner_engine)
        assert expected["open_mismatches"] == [], (seed, plan)
        assert await mix.end_state(with_faults, owner_engine) == expected, (seed, plan)
        for order in (without, with_faults):
            gateway = await _gateway_totals(simulator_url, order.order_id)
            assert gateway == (15_001 if plan.paid else 0, plan.refund), (seed, plan)
            assert await _ledger(owner_engine, order.order_id) == gateway, (seed, plan, order.order_id)
