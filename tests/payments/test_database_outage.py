"""The worker outlives its database. A PostgreSQL of the test's own (the embedded server,
in a folder of its own) is stopped for 20 seconds under light load, with refund calls in
flight and customers paying meanwhile, then started again. The same worker process goes on
and applies everything afterwards: every capture and refund Kashier made is in the ledger
once, no refund is sent twice, no job is left `doing`, and the worker's health says it
reconnected. Before, the worker exited for good ("Side task listener failed ... stopping
worker") and nothing was applied.

Over the live stack: `booklnk serve`, one real `booklnk worker`, a Kashier simulator whose
webhook retries outlast the outage (Kashier's own retry for hours)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
from flow_support import (
    CARD,
    held_booking,
    ok,
    open_consultancy,
    paid_booking,
    pay,
    set_faults,
    start_checkout,
)
from outage_support import Restartable, gateway, ledger, scalar, wait_for
from sqlalchemy.ext.asyncio import AsyncEngine

from race_support import free_port, running_job_workers

OUTAGE_SECONDS = 20.0
REFUND_ANSWER_SECONDS = 4.0  # Kashier answers the refund calls in flight only after the stop
FAST_RECOVERY = {"BOOKLNK_WORKER_HEARTBEAT_SECONDS": "1", "BOOKLNK_WORKER_STALLED_SECONDS": "3"}


async def test_the_worker_waits_out_a_database_outage_and_applies_everything_after(
    restartable_database: Restartable,
    outage_http: httpx.AsyncClient,
    outage_engine: AsyncEngine,
    outage_env: dict[str, str],
    patient_simulator: str,
    tmp_path: Path,
) -> None:
    http, engine, sim = outage_http, outage_engine, patient_simulator
    health_port = free_port()
    env = {**outage_env, **FAST_RECOVERY, "BOOKLNK_WORKER_HEALTH_PORT": str(health_port)}
    consultancy = await open_consultancy(http)
    base, owner, _ = consultancy
    with running_job_workers(restartable_database.url, tmp_path, 1, env) as (worker,):
        paid = [await paid_booking(http, consultancy, sim) for _ in range(2)]
        refunded = [checkout["order_id"] for _, _, checkout in paid]
        for (_, booking, _), order_id in zip(paid, refunded, strict=True):
            await set_faults(sim, order_id, refund_delay_seconds=REFUND_ANSWER_SECONDS)
            await ok(http, owner, "POST", f"{base}/bookings/{booking['id']}/refunds", {"amount_minor": 3_000})
        later = []
        for _ in range(2):
            customer, booking = await held_booking(http, consultancy)
            later.append((customer, booking, await start_checkout(http, base, customer, booking)))

        async def refunds_in_flight() -> bool:
            found = await scalar(
                engine,
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'payments.send_refund'"
                " AND status = 'doing'",
            )
            return int(found) >= 1

        await wait_for(refunds_in_flight)
        stopped_at = time.monotonic()
        restartable_database.stop()
        for _, _, checkout in later:  # customers pay while the database is down
            await pay(sim, checkout, **CARD)
        await asyncio.sleep(OUTAGE_SECONDS - (time.monotonic() - stopped_at))
        assert worker.process.poll() is None, f"the worker exited:\n{worker.log_tail()}"
        restartable_database.start()

        orders = refunded + [checkout["order_id"] for _, _, checkout in later]

        async def all_applied() -> bool:
            for order_id in orders:
                made = await gateway(sim, order_id)
                if await ledger(engine, order_id, "capture") != made["capture"]:
                    return False
                if await ledger(engine, order_id, "refund") != made["refund"]:
                    return False
            settled = await scalar(engine, "SELECT count(*) FROM refund_intent WHERE status = 'settled'")
            doing = await scalar(engine, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'")
            return int(settled) == len(refunded) and int(doing) == 0

        await wait_for(all_applied)
        assert worker.process.poll() is None  # the same process all along
        for order_id in refunded:
            assert (await gateway(sim, order_id))["refund"] == [3_000]  # sent once
        for customer, booking, _ in later:
            shown = await ok(http, customer, "GET", f"{base}/bookings/{booking['id']}")
            assert shown["status"] == "confirmed"
        # A pooled connection broken by the restart may surface only now and make the worker
        # reconnect once more: its health is an end state to wait for, not a moment to catch.
        reports: list[dict[str, Any]] = []

        async def healthy() -> bool:
            async with httpx.AsyncClient(timeout=5) as probe:
                reports.append((await probe.get(f"http://127.0.0.1:{health_port}/health")).json())
            return bool(reports[-1]["status"] == "ok")

        try:
            await wait_for(healthy, within=30)
        except AssertionError:
            raise AssertionError(f"never healthy again: {reports[-3:]}\n{worker.log_tail()}") from None
        # Its own connections broke and were made again, unless only what is behind them
        # stopped (a Citus cluster's workers): then its jobs failed and ran again instead.
        assert reports[-1]["restarts"] >= 1 or not restartable_database.connections_break
