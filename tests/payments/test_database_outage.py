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
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
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
from kashier_support import API_KEY, MID, SECRET_KEY
from pgserver._commands import POSTGRES_BIN_PATH  # the wheel's own binaries
from pgserver.postgres_server import PostgresServer, get_server
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from booklnk.payments.kashier.client import KashierClient, OrderFound
from booklnk.payments.kashier.config import KashierConfig
from booklnk.payments.kashier.simulator import ServerThread, SimulatorSettings, create_app
from race_support import LiveServer, free_port, running_job_workers, running_server

OUTAGE_SECONDS = 20.0
# Kashier retries a webhook that failed for hours; compressed, these outlast the outage.
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
REFUND_ANSWER_SECONDS = 4.0  # Kashier answers the refund calls in flight only after the stop
SETTLE_SECONDS = 120.0
FAST_RECOVERY = {"BOOKLNK_WORKER_HEARTBEAT_SECONDS": "1", "BOOKLNK_WORKER_STALLED_SECONDS": "3"}


@dataclass
class Restartable:
    """The embedded PostgreSQL in a folder of its own, stopped and started at will (pg_ctl,
    with the options pgserver started it with: a socket in a directory, no TCP)."""

    server: PostgresServer
    url: str

    @property
    def socket_dir(self) -> str:
        return parse_qs(urlparse(self.url).query)["host"][0]

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.server.pgdata), *args],
            user=self.server.system_user,
            check=True,
            capture_output=True,
            timeout=60,
        )

    def stop(self) -> None:
        self._pg_ctl("-w", "-m", "fast", "stop")

    def start(self) -> None:
        log = str(self.server.pgdata / "log")
        self._pg_ctl("-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", log, "start")


@pytest.fixture(scope="module")
def restartable_database() -> Iterator[Restartable]:
    folder = (Path(".booklnk") / f"outage-{uuid.uuid4().hex[:8]}").resolve()
    folder.mkdir(parents=True)
    server = get_server(folder, cleanup_mode="delete")
    database = Restartable(server, server.get_uri())
    try:
        yield database
    finally:
        server.cleanup()


@pytest.fixture(scope="module")
def patient_simulator() -> Iterator[str]:
    settings = SimulatorSettings(
        mid=MID, api_key=API_KEY, secret_key=SECRET_KEY, retry_delays=RETRY_DELAYS, delivery_timeout=2
    )
    with ServerThread(create_app(settings)) as server:
        yield server.url


@pytest.fixture(scope="module")
def outage_env(patient_simulator: str) -> dict[str, str]:
    return {
        "BOOKLNK_KASHIER_MID": MID,
        "BOOKLNK_KASHIER_API_KEY": API_KEY,
        "BOOKLNK_KASHIER_SECRET_KEY": SECRET_KEY,
        "BOOKLNK_KASHIER_HPP_URL": patient_simulator,
        "BOOKLNK_KASHIER_API_URL": patient_simulator,
        "BOOKLNK_KASHIER_FEP_URL": patient_simulator,
    }


@pytest.fixture(scope="module")
def outage_api(
    restartable_database: Restartable, tmp_path_factory: pytest.TempPathFactory, outage_env: dict[str, str]
) -> Iterator[LiveServer]:
    with running_server(restartable_database.url, tmp_path_factory, outage_env) as server:
        yield server


@pytest.fixture(scope="module")
async def outage_http(outage_api: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=outage_api.base_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
async def outage_engine(restartable_database: Restartable) -> AsyncIterator[AsyncEngine]:
    url = restartable_database.url.replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = create_async_engine(url, pool_pre_ping=True)
    yield engine
    await engine.dispose()


async def _wait_for(probe: Callable[[], Awaitable[bool]], within: float = SETTLE_SECONDS) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            if await probe():
                return
        except (OSError, httpx.HTTPError):
            pass  # the server is not back yet
        assert asyncio.get_running_loop().time() < deadline, "gave up waiting"
        await asyncio.sleep(0.5)


async def _scalar(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.connect() as conn:
        return await conn.scalar(text(sql), params)


async def _ledger(engine: AsyncEngine, order_id: str, kind: str) -> list[int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT l.amount_minor FROM ledger_entry l JOIN payment_attempt a"
                " ON a.business_id = l.business_id AND a.id = l.attempt_id"
                " WHERE a.order_id = :o AND l.kind::text = :k ORDER BY l.amount_minor"
            ),
            {"o": order_id, "k": kind},
        )
        return [int(r[0]) for r in rows]


async def _gateway(simulator_url: str, order_id: str) -> dict[str, list[int]]:
    config = KashierConfig.create(
        mid=MID,
        api_key=API_KEY,
        secret_key=SECRET_KEY,
        hpp_url=simulator_url,
        api_url=simulator_url,
        fep_url=simulator_url,
    )
    async with KashierClient(config) as kashier:
        found = await kashier.lookup_order(order_id)
    assert isinstance(found, OrderFound)
    made: dict[str, list[int]] = {"capture": [], "refund": []}
    for tx in found.transactions:
        if tx.status == "SUCCESS":
            made["refund" if tx.operation == "refund" else "capture"].append(tx.amount_minor)
    return {kind: sorted(amounts) for kind, amounts in made.items()}


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
            found = await _scalar(
                engine,
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'payments.send_refund'"
                " AND status = 'doing'",
            )
            return int(found) >= 1

        await _wait_for(refunds_in_flight)
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
                gateway = await _gateway(sim, order_id)
                if await _ledger(engine, order_id, "capture") != gateway["capture"]:
                    return False
                if await _ledger(engine, order_id, "refund") != gateway["refund"]:
                    return False
            settled = await _scalar(engine, "SELECT count(*) FROM refund_intent WHERE status = 'settled'")
            doing = await _scalar(engine, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'")
            return int(settled) == len(refunded) and int(doing) == 0

        await _wait_for(all_applied)
        assert worker.process.poll() is None  # the same process all along
        for order_id in refunded:
            assert (await _gateway(sim, order_id))["refund"] == [3_000]  # sent once
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
            await _wait_for(healthy, within=30)
        except AssertionError:
            raise AssertionError(f"never healthy again: {reports[-3:]}\n{worker.log_tail()}") from None
        assert reports[-1]["restarts"] >= 1
