"""A live stack that outlives its database: a PostgreSQL of a test module's own (the
embedded server, in a folder of its own) that can be stopped and started, a Kashier
simulator whose webhook retries outlast an outage, `booklnk serve` on that database, and
helpers to wait and to compare the ledger with the gateway.

The fixtures are module-scoped: each test module that uses them has its own database,
simulator and server. They are registered in this folder's conftest."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from kashier_support import API_KEY, MID, SECRET_KEY
from pgserver._commands import POSTGRES_BIN_PATH  # the wheel's own binaries
from pgserver.postgres_server import PostgresServer, get_server
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

import citus_cluster
import support
from booklnk.payments.kashier.client import KashierClient, OrderFound
from booklnk.payments.kashier.config import KashierConfig
from booklnk.payments.kashier.simulator import ServerThread, SimulatorSettings, create_app
from race_support import LiveServer, running_server

# Kashier retries a webhook that failed for hours; compressed, these outlast the outage.
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
SETTLE_SECONDS = 120.0


class Restartable(Protocol):
    """A test module's own database, whose server is stopped and started at will."""

    @property
    def url(self) -> str: ...

    @property
    def connections_break(self) -> bool:
        """Whether the outage closes the app's own connections (their server stops)."""
        ...

    def stop(self) -> None: ...

    def start(self) -> None: ...


@dataclass
class EmbeddedServer:
    """The embedded PostgreSQL in a folder of its own, stopped and started at will (pg_ctl,
    with the options pgserver started it with: a socket in a directory, no TCP)."""

    server: PostgresServer
    url: str
    connections_break: bool = True

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
async def restartable_database() -> AsyncIterator[Restartable]:
    """The embedded server, or a Citus cluster's database when one is configured
    (tests/citus_cluster.py)."""
    if citus_cluster.configured():
        async with citus_cluster.cluster_database() as cluster:
            yield cluster
        return
    folder = (Path(".booklnk") / f"outage-{uuid.uuid4().hex[:8]}").resolve()
    folder.mkdir(parents=True)
    server = get_server(folder, cleanup_mode="delete")
    database = EmbeddedServer(server, server.get_uri())
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
async def outage_http(
    outage_api: LiveServer, restartable_database: Restartable
) -> AsyncIterator[httpx.AsyncClient]:
    # Sign-ups through this server find their codes in its database.
    with support.OUTBOX.reading(restartable_database.url):
        async with httpx.AsyncClient(base_url=outage_api.base_url, timeout=30) as client:
            yield client


@pytest.fixture(scope="module")
async def outage_engine(restartable_database: Restartable) -> AsyncIterator[AsyncEngine]:
    url = restartable_database.url.replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = create_async_engine(url, pool_pre_ping=True)
    yield engine
    await engine.dispose()


async def wait_for(probe: Callable[[], Awaitable[bool]], within: float = SETTLE_SECONDS) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            if await probe():
                return
        except (OSError, httpx.HTTPError):
            pass  # the server is not back yet
        assert asyncio.get_running_loop().time() < deadline, "gave up waiting"
        await asyncio.sleep(0.5)


async def scalar(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.connect() as conn:
        return await conn.scalar(text(sql), params)


async def ledger(engine: AsyncEngine, order_id: str, kind: str) -> list[int]:
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


def simulator_config(simulator_url: str) -> KashierConfig:
    return KashierConfig.create(
        mid=MID,
        api_key=API_KEY,
        secret_key=SECRET_KEY,
        hpp_url=simulator_url,
        api_url=simulator_url,
        fep_url=simulator_url,
    )


async def gateway(simulator_url: str, order_id: str) -> dict[str, list[int]]:
    async with KashierClient(simulator_config(simulator_url)) as kashier:
        found = await kashier.lookup_order(order_id)
    assert isinstance(found, OrderFound)
    made: dict[str, list[int]] = {"capture": [], "refund": []}
    for tx in found.transactions:
        if tx.status == "SUCCESS":
            made["refund" if tx.operation == "refund" else "capture"].append(tx.amount_minor)
    return {kind: sorted(amounts) for kind, amounts in made.items()}
