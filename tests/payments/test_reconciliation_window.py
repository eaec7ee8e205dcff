"""A day's reconciliation looks wherever money may have moved that day, not only at the
attempts created on it: a refund made in Kashier's dashboard days after the checkout, with
its webhook lost, is found and healed; so is a lost webhook of an older order's refund that
we asked for that day. Over the live stack and the simulator; the reconciliation runs in
this process with a client that gives up after a second."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from flow_support import money, ok, paid_booking, reconcile_here, set_faults, until
from kashier_support import API_KEY, MID, SECRET_KEY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.db.database import Database
from booklnk.payments.kashier.client import KashierClient, RefundAccepted
from booklnk.payments.kashier.config import KashierConfig
from support import Account


async def _age(engine: AsyncEngine, order_id: str, days: int) -> None:
    """Make the order's checkout (and everything recorded for it) `days` old."""
    back = "make_interval(days => :d)"
    of_order = "(SELECT id FROM payment_attempt WHERE order_id = :o)"
    statements = (
        f"UPDATE payment_attempt SET created_at = created_at - {back} WHERE order_id = :o",
        f"UPDATE ledger_entry SET created_at = created_at - {back} WHERE attempt_id IN {of_order}",
        f"UPDATE webhook_delivery SET received_at = received_at - {back} WHERE merchant_order_id = :o",
    )
    async with engine.begin() as conn:
        for statement in statements:
            await conn.execute(text(statement), {"o": order_id, "d": days})


def _config(simulator_url: str) -> KashierConfig:
    return KashierConfig.create(
        mid=MID,
        api_key=API_KEY,
        secret_key=SECRET_KEY,
        hpp_url=simulator_url,
        api_url=simulator_url,
        fep_url=simulator_url,
    )


async def _ledger(engine: AsyncEngine, order_id: str) -> list[tuple[str, int]]:
    return sorted((await money(engine, order_id))[0])


async def test_a_dashboard_refund_days_after_the_checkout_is_found_and_healed(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
    shared_db: Database,
) -> None:
    _, _, checkout = await paid_booking(http, consultancy, simulator_url)
    order_id = checkout["order_id"]
    await _age(owner_engine, order_id, days=3)
    await set_faults(simulator_url, order_id, drop=True)  # its webhook never comes
    async with KashierClient(_config(simulator_url)) as kashier:
        assert isinstance(await kashier.refund(order_id, 6_000, "EGP"), RefundAccepted)
    await asyncio.sleep(1)
    assert await _ledger(owner_engine, order_id) == [("capture", 15_001)]  # nothing here knows

    result = await reconcile_here(shared_db, simulator_url, consultancy[0])
    assert result.healed >= 1
    expected = sorted([("capture", 15_001), ("refund", 6_000)])
    assert await until(lambda: _ledger(owner_engine, order_id), expected) == expected


async def test_an_older_orders_refund_asked_for_that_day_is_checked_that_day(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
    shared_db: Database,
) -> None:
    """Beyond the lookback, an attempt is still checked on a day it had activity."""
    base, owner, _ = consultancy
    _, booking, checkout = await paid_booking(http, consultancy, simulator_url)
    order_id = checkout["order_id"]
    await _age(owner_engine, order_id, days=12)  # beyond the 7-day lookback
    await set_faults(simulator_url, order_id, drop=True)
    await ok(http, owner, "POST", f"{base}/bookings/{booking['id']}/refunds", {"amount_minor": 2_000})

    async def accepted() -> list[str]:
        found: dict[str, Any] = await ok(http, owner, "GET", f"{base}/bookings/{booking['id']}/payments")
        return [r["status"] for r in found["refunds"]]

    assert await until(accepted, ["accepted"]) == ["accepted"]  # sent; its webhook was dropped
    result = await reconcile_here(shared_db, simulator_url, base)
    assert result.healed >= 1
    expected = sorted([("capture", 15_001), ("refund", 2_000)])
    assert await until(lambda: _ledger(owner_engine, order_id), expected) == expected
