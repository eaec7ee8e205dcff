"""A worker killed mid-job (SIGKILL, as the OOM killer or a lost node would) leaves its
job `doing`, holding its order's lock; the next worker finds it by the dead worker's stale
heartbeat and runs it again, and the retry does only what is left. Over the live stack: a
real `booklnk serve`, real `booklnk worker` processes, the Kashier simulator over HTTP.

(a) A worker dies while applying a refund webhook (it waits on the gateway's slow order
lookup): the webhook is applied once. (b) A worker dies while Kashier holds the answer to
its refund call (the refund was made, the answer never came): the refund is sent once and
recorded once, and the order's webhook that waited behind the lock is applied."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flow_support import CARD, held_booking, ok, open_consultancy, pay, start_checkout
from kashier_support import API_KEY, MID, SECRET_KEY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.payments.kashier.client import KashierClient, OrderFound
from booklnk.payments.kashier.config import KashierConfig
from race_support import LiveServer, running_server, server_env, stop_server
from support import Account

# Heartbeats every second; a worker silent for three is dead, and its jobs are run again.
FAST_RECOVERY = {"BOOKLNK_WORKER_HEARTBEAT_SECONDS": "1", "BOOKLNK_WORKER_STALLED_SECONDS": "3"}
HELD_BACK = 120.0  # seconds the simulator keeps an answer: far beyond the test
SETTLE_SECONDS = 45.0


@pytest.fixture(scope="module")
def stack(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, kashier_env: dict[str, str]
) -> Iterator[LiveServer]:
    with running_server(database_url, tmp_path_factory, kashier_env) as server:
        yield server


@pytest.fixture(scope="module")
async def http(stack: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as client:
        yield client


class Worker:
    """One `booklnk worker` process, its own process group, killed without a chance to
    clean up (its worker row and heartbeat stay behind, as after a crash)."""

    def __init__(self, database_url: str, env: dict[str, str], log: Path) -> None:
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "booklnk.cli", "worker"],
                env={**server_env(database_url), **env, **FAST_RECOVERY},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.log = log

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        stop_server(LiveServer(self.process, "", self.log))


@contextlib.contextmanager
def worker(database_url: str, kashier_env: dict[str, str], log: Path) -> Iterator[Worker]:
    started = Worker(database_url, kashier_env, log)
    try:
        yield started
    finally:
        started.stop()


def _client(simulator_url: str) -> KashierClient:
    config = KashierConfig.create(
        mid=MID,
        api_key=API_KEY,
        secret_key=SECRET_KEY,
        hpp_url=simulator_url,
        api_url=simulator_url,
        fep_url=simulator_url,
        timeout_seconds=5,
    )
    return KashierClient(config)


async def _faults(simulator_url: str, order_id: str, **faults: Any) -> None:
    async with httpx.AsyncClient(timeout=10) as sim:
        response = await sim.post(
            f"{simulator_url}/__sim/faults", json={"merchantOrderId": order_id, **faults}
        )
        assert response.status_code == 200, response.text


async def _gateway_refunds(simulator_url: str, order_id: str) -> list[tuple[str, int]]:
    async with _client(simulator_url) as kashier:
        found = await kashier.lookup_order(order_id)
    assert isinstance(found, OrderFound)
    return [(t.transaction_id, t.amount_minor) for t in found.transactions if t.operation == "refund"]


async def _job_doing(engine: AsyncEngine, task: str) -> bool:
    async with engine.connect() as conn:
        found = await conn.scalar(
            text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = :t AND status = 'doing'"),
            {"t": task},
        )
    return bool(found)


async def _wait_for(probe: Any, within: float = SETTLE_SECONDS) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await probe():
        assert asyncio.get_running_loop().time() < deadline, "gave up waiting"
        await asyncio.sleep(0.2)


async def _paid(
    http: httpx.AsyncClient, consultancy: tuple[str, Account, str], simulator_url: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    customer, booking = await held_booking(http, consultancy)
    checkout = await start_checkout(http, consultancy[0], customer, booking)
    await pay(simulator_url, checkout, **CARD)

    async def confirmed() -> bool:
        shown = await ok(http, consultancy[1], "GET", f"{consultancy[0]}/bookings/{booking['id']}")
        return bool(shown["status"] == "confirmed")

    await _wait_for(confirmed)
    return booking, checkout


async def _ledger_refunds(engine: AsyncEngine, order_id: str) -> list[int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT l.amount_minor FROM ledger_entry l JOIN payment_attempt a"
                " ON a.business_id = l.business_id AND a.id = l.attempt_id"
                " WHERE a.order_id = :o AND l.kind = 'refund' ORDER BY l.created_at"
            ),
            {"o": order_id},
        )
        return [int(r[0]) for r in rows]


async def _nothing_doing(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        return not await conn.scalar(text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'"))


async def test_a_worker_killed_while_applying_a_webhook_leaves_it_to_the_next_one(
    http: httpx.AsyncClient,
    database_url: str,
    kashier_env: dict[str, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
    tmp_path: Path,
) -> None:
    consultancy = await open_consultancy(http)
    with worker(database_url, kashier_env, tmp_path / "first.log") as first:
        _, checkout = await _paid(http, consultancy, simulator_url)
        order_id = checkout["order_id"]
        # A refund made in Kashier's dashboard: no intent of ours accounts for it, so its
        # webhook is applied only once the order lookup lists it, and the lookup is slow.
        await _faults(simulator_url, order_id, lookup_delay_seconds=HELD_BACK)
        async with _client(simulator_url) as kashier:
            await kashier.refund(order_id, 5_000, "EGP", reason="dashboard")
        await _wait_for(lambda: _job_doing(owner_engine, "payments.apply_webhook"))
        await asyncio.sleep(0.5)  # inside the lookup now
        first.kill()
    assert await _ledger_refunds(owner_engine, order_id) == []
    await _faults(simulator_url, order_id)  # the gateway answers again
    await asyncio.sleep(3.5)  # the dead worker's heartbeat is stale by now
    with worker(database_url, kashier_env, tmp_path / "second.log"):

        async def recorded() -> bool:
            return await _ledger_refunds(owner_engine, order_id) == [5_000]

        await _wait_for(recorded)
        await _wait_for(lambda: _nothing_doing(owner_engine))
    assert await _ledger_refunds(owner_engine, order_id) == [5_000]
    async with owner_engine.connect() as conn:
        applied = (
            await conn.execute(
                text("SELECT outcome FROM webhook_delivery WHERE merchant_order_id = :o ORDER BY id"),
                {"o": order_id},
            )
        ).all()
    assert [r[0] for r in applied] == ["confirmed", "refund_recorded"]


async def test_a_worker_killed_while_kashier_holds_its_refund_answer_refunds_once(
    http: httpx.AsyncClient,
    database_url: str,
    kashier_env: dict[str, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
    tmp_path: Path,
) -> None:
    consultancy = await open_consultancy(http)
    base, owner, _ = consultancy
    with worker(database_url, kashier_env, tmp_path / "first.log") as first:
        booking, checkout = await _paid(http, consultancy, simulator_url)
        order_id = checkout["order_id"]
        await _faults(simulator_url, order_id, refund_delay_seconds=HELD_BACK)
        await ok(http, owner, "POST", f"{base}/bookings/{booking['id']}/refunds", {"amount_minor": 4_000})

        async def made_at_the_gateway() -> bool:
            return len(await _gateway_refunds(simulator_url, order_id)) == 1

        await _wait_for(made_at_the_gateway)  # the refund exists; its answer is held back
        first.kill()
    await _faults(simulator_url, order_id)
    await asyncio.sleep(3.5)
    with worker(database_url, kashier_env, tmp_path / "second.log"):

        async def settled() -> bool:
            async with owner_engine.connect() as conn:
                status = await conn.scalar(
                    text(
                        "SELECT r.status FROM refund_intent r JOIN payment_attempt a"
                        " ON a.business_id = r.business_id AND a.id = r.attempt_id WHERE a.order_id = :o"
                    ),
                    {"o": order_id},
                )
            return status == "settled"

        await _wait_for(settled)
        await _wait_for(lambda: _nothing_doing(owner_engine))
    refunds = await _gateway_refunds(simulator_url, order_id)
    assert [amount for _, amount in refunds] == [4_000]  # sent once: the retry looked first
    assert await _ledger_refunds(owner_engine, order_id) == [4_000]
    async with owner_engine.connect() as conn:
        claimed = await conn.scalar(
            text(
                "SELECT r.gateway_transaction_id FROM refund_intent r JOIN payment_attempt a"
                " ON a.business_id = r.business_id AND a.id = r.attempt_id WHERE a.order_id = :o"
            ),
            {"o": order_id},
        )
    assert claimed == refunds[0][0]
