"""The Kashier simulator and a webhook receiver, each a real uvicorn server on its own
thread, shared by the payments tests; the simulator is reset before each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from flow_support import open_consultancy
from kashier_support import (
    API_KEY,
    CLIENT_TIMEOUT,
    LATE_WEBHOOK_DELAY,
    MID,
    RETRY_DELAYS,
    SECRET_KEY,
    Receiver,
    Sim,
)

# The outage stack (a PostgreSQL of a module's own that can be stopped, a patient Kashier
# simulator, `booklnk serve` on them): found by pytest here, one per test module using it.
from outage_support import (  # noqa: F401
    outage_api,
    outage_engine,
    outage_env,
    outage_http,
    patient_simulator,
    restartable_database,
)

from booklnk.payments.kashier.config import KashierConfig
from booklnk.payments.kashier.simulator import ServerThread, SimulatorSettings, create_app
from race_support import LiveServer, running_job_workers, running_server
from support import Account


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    hooks = Receiver(API_KEY)
    with ServerThread(hooks.app) as server:
        hooks.base_url = server.url
        yield hooks


@pytest.fixture(scope="session")
def simulator_url() -> Iterator[str]:
    settings = SimulatorSettings(
        mid=MID,
        api_key=API_KEY,
        secret_key=SECRET_KEY,
        retry_delays=RETRY_DELAYS,
        delivery_timeout=2,
        late_webhook_delay=LATE_WEBHOOK_DELAY,
    )
    with ServerThread(create_app(settings)) as server:
        yield server.url


@pytest.fixture
async def sim(simulator_url: str, receiver: Receiver) -> AsyncIterator[Sim]:
    config = KashierConfig.create(
        mid=MID,
        api_key=API_KEY,
        secret_key=SECRET_KEY,
        hpp_url=simulator_url,
        api_url=simulator_url,
        fep_url=simulator_url,
        timeout_seconds=CLIENT_TIMEOUT,
    )
    async with httpx.AsyncClient(timeout=10) as http:
        await http.post(f"{simulator_url}/__sim/reset")
        receiver.clear()
        yield Sim(simulator_url, config, f"{receiver.base_url}/hooks/kashier", http)


# --- the live Booklnk stack (two API processes, two workers) wired to the simulator ---


@pytest.fixture(scope="module")
def kashier_env(simulator_url: str) -> dict[str, str]:
    return {
        "BOOKLNK_KASHIER_MID": MID,
        "BOOKLNK_KASHIER_API_KEY": API_KEY,
        "BOOKLNK_KASHIER_SECRET_KEY": SECRET_KEY,
        "BOOKLNK_KASHIER_HPP_URL": simulator_url,
        "BOOKLNK_KASHIER_API_URL": simulator_url,
        "BOOKLNK_KASHIER_FEP_URL": simulator_url,
    }


@pytest.fixture(scope="module")
def api(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, kashier_env: dict[str, str]
) -> Iterator[LiveServer]:
    with (
        running_server(database_url, tmp_path_factory, kashier_env) as server,
        running_job_workers(database_url, tmp_path_factory.mktemp("workers"), 2, kashier_env),
    ):
        yield server


@pytest.fixture(scope="module")
async def http(api: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
async def consultancy(http: httpx.AsyncClient) -> tuple[str, Account, str]:
    return await open_consultancy(http)
