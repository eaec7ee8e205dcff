"""Reconciliation closes every loop. A day's run looks wherever money may have moved that
day, not only at the attempts created on it: a refund made in Kashier's dashboard days
after the checkout, with its webhook lost, is found and healed; so is a lost webhook of an
older order's refund that we asked for that day. Open items are looked at again until they
close: a lookup that failed in an old run is retried (and resolved) by today's. Refunds a
person must act on are flagged: one Kashier refused, one accepted and unsettled for a day.
Over the live stack and the simulator; the reconciliation runs in this process with a
client that gives up after a second."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from flow_support import CAIRO, money, ok, paid_booking, reconcile_here, set_faults, until
from kashier_support import API_KEY, MID, SECRET_KEY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.db.database import Database
from booklnk.payments.kashier.client import KashierClient, RefundAccepted
from booklnk.payments.kashier.config import KashierConfig
from booklnk.payments.models import MismatchKind
from support import Account, earlier

TWO_DAYS = "interval '2 days'"


async def _age(engine: AsyncEngine, order_id: str, days: int) -> None:
    """Make the order's checkout (and everything recorded for it) `days` old."""
    back = "make_interval(days => :d)"
    of_order = "(SELECT id FROM payment_attempt WHERE order_id = :o)"
    statements = (
        f"UPDATE payment_attempt SET created_at = {earlier('created_at', back)} WHERE order_id = :o",
        f"UPDATE ledger_entry SET created_at = {earlier('created_at', back)} WHERE attempt_id IN {of_order}",
        f"UPDATE webhook_delivery SET received_at = {earlier('received_at', back)}"
        " WHERE merchant_order_id = :o",
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


async def _kinds(engine: AsyncEngine, run_id: uuid.UUID, order_id: str) -> dict[str, bool]:
    """The run's mismatches of the order: kind -> resolved."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT kind::text, resolved_at IS NOT NULL FROM reconciliation_mismatch"
                " WHERE run_id = :r AND order_id = :o"
            ),
            {"r": run_id, "o": order_id},
        )
        return {kind: resolved for kind, resolved in rows}


async def _refund_statuses(engine: AsyncEngine, order_id: str) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT r.status::text FROM refund_intent r JOIN payment_attempt a"
                " ON a.business_id = r.business_id AND a.id = r.attempt_id"
                " WHERE a.order_id = :o ORDER BY r.created_at"
            ),
            {"o": order_id},
        )
        return [r[0] for r in rows]


async def test_a_refund_kashier_refused_is_flagged_for_the_owner(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
    shared_db: Database,
) -> None:
    """Everything went back in the dashboard (its webhook lost), so Kashier refuses the
    owner's refund: the customer got nothing from it, and the owner is told."""
    base, owner, _ = consultancy
    _, booking, checkout = await paid_booking(http, consultancy, simulator_url)
    order_id = checkout["order_id"]
    await set_faults(simulator_url, order_id, drop=True)
    async with httpx.AsyncClient(timeout=10) as sim:
        made = await sim.post(
            f"{simulator_url}/__sim/orders/{order_id}/refunds", json={"amountMinor": 15_001}
        )
        assert made.status_code == 200, made.text
    await ok(http, owner, "POST", f"{base}/bookings/{booking['id']}/refunds", {"amount_minor": 5_000})
    assert await until(lambda: _refund_statuses(owner_engine, order_id), ["refused"]) == ["refused"]

    result = await reconcile_here(shared_db, simulator_url, base)
    kinds = await _kinds(owner_engine, result.run_id, order_id)
    assert kinds["refund_refused"] is False  # open: a person must act
    assert "refunds_differ" in kinds  # the dashboard refund, healed
    assert MismatchKind.REFUND_REFUSED in result.new_kinds


async def test_a_refund_pending_for_over_a_day_is_flagged_until_it_settles(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
    shared_db: Database,
) -> None:
    base, owner, _ = consultancy
    _, booking, checkout = await paid_booking(http, consultancy, simulator_url)
    order_id = checkout["order_id"]
    await set_faults(simulator_url, order_id, refund_answer="pending")
    await ok(http, owner, "POST", f"{base}/bookings/{booking['id']}/refunds", {"amount_minor": 2_000})
    assert await until(lambda: _refund_statuses(owner_engine, order_id), ["accepted"]) == ["accepted"]
    async with owner_engine.begin() as conn:  # Kashier accepted it two days ago
        await conn.execute(
            text(
                f"UPDATE refund_intent SET updated_at = {earlier('updated_at', TWO_DAYS)}"
                " WHERE attempt_id IN (SELECT id FROM payment_attempt WHERE order_id = :o)"
            ),
            {"o": order_id},
        )

    first = await reconcile_here(shared_db, simulator_url, base)
    assert (await _kinds(owner_engine, first.run_id, order_id)).get("refund_pending_long") is False

    async with httpx.AsyncClient(timeout=10) as sim:
        settled = await sim.post(f"{simulator_url}/__sim/orders/{order_id}/refunds/settle")
        assert settled.status_code == 200, settled.text
    assert await until(lambda: _refund_statuses(owner_engine, order_id), ["settled"]) == ["settled"]
    again = await reconcile_here(shared_db, simulator_url, base)
    assert again.run_id == first.run_id  # the same day, run again
    assert (await _kinds(owner_engine, first.run_id, order_id))["refund_pending_long"] is True


async def test_a_lookup_that_failed_in_an_old_run_is_retried_and_resolved_today(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
    shared_db: Database,
) -> None:
    base = consultancy[0]
    _, _, checkout = await paid_booking(http, consultancy, simulator_url)
    order_id = checkout["order_id"]
    await _age(owner_engine, order_id, days=12)  # beyond the lookback
    old_day = datetime.now(CAIRO).date() - timedelta(days=12)
    await set_faults(simulator_url, order_id, bad_gateway=100)
    old = await reconcile_here(shared_db, simulator_url, base, old_day)
    assert (await _kinds(owner_engine, old.run_id, order_id)) == {"lookup_failed": False}

    await set_faults(simulator_url, order_id)  # Kashier answers again
    today = await reconcile_here(shared_db, simulator_url, base)
    assert today.orders_checked >= 1
    assert (await _kinds(owner_engine, old.run_id, order_id)) == {"lookup_failed": True}
    assert await _kinds(owner_engine, today.run_id, order_id) == {}
