"""The Kashier simulator and a webhook receiver, each a real uvicorn server on its own
thread, shared by the payments tests; the simulator is reset before each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from kashier_support import API_KEY, MID, SECRET_KEY, Receiver, Sim

from booklnk.payments.kashier.config import KashierConfig
from booklnk.payments.kashier.simulator import ServerThread, SimulatorSettings, create_app

# Kashier's schedule compressed: three retries within half a second.
RETRY_DELAYS = (0.05, 0.1, 0.2)
LATE_WEBHOOK_DELAY = 0.4
CLIENT_TIMEOUT = 1.0


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
