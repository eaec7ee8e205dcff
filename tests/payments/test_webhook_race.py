"""One signed webhook delivered to two separate API server processes at the same instant
(two `booklnk serve` on two ports, one database, one worker), again and again: each time
one stored delivery, one ledger row, one applied outcome."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from flow_support import (
    booking_status,
    held_booking,
    major,
    money,
    open_consultancy,
    post_webhook,
    start_checkout,
    until,
    webhook_data,
)
from kashier_support import API_KEY
from sqlalchemy.ext.asyncio import AsyncEngine

from race_support import LiveServer, running_job_workers, start_server, stop_server
from support import Account

REPEATS = 8
COPIES_PER_SERVER = 2


@pytest.fixture(scope="module")
def servers(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, kashier_env: dict[str, str]
) -> Iterator[list[LiveServer]]:
    logs = tmp_path_factory.mktemp("two-servers")
    with contextlib.ExitStack() as stack:
        started = []
        for name in ("one", "two"):
            server = start_server(database_url, logs / f"{name}.log", 1, kashier_env)
            stack.callback(stop_server, server)
            started.append(server)
        stack.enter_context(running_job_workers(database_url, logs, 1, kashier_env))
        yield started


@pytest.fixture(scope="module")
async def clients(servers: list[LiveServer]) -> AsyncIterator[list[httpx.AsyncClient]]:
    async with contextlib.AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(httpx.AsyncClient(base_url=s.base_url, timeout=30))
            for s in servers
        ]


async def test_one_webhook_at_two_server_processes_at_once_is_stored_and_applied_once(
    clients: list[httpx.AsyncClient], owner_engine: AsyncEngine
) -> None:
    one = clients[0]
    consultancy = await open_consultancy(one)
    base = consultancy[0]
    raced: list[tuple[Account, str, str]] = []
    for _ in range(REPEATS):
        customer, booking = await held_booking(one, consultancy)
        checkout = await start_checkout(one, base, customer, booking)
        data = webhook_data(checkout["order_id"], f"TX-race-{uuid.uuid4().hex[:10]}", major(15_001))
        for client in clients:  # a live connection to each process before the race
            assert (await client.get("/healthz")).status_code == 200
        answers = await asyncio.gather(
            *(post_webhook(c, "pay", data, API_KEY) for c in clients for _ in range(COPIES_PER_SERVER))
        )
        assert [a.status_code for a in answers] == [200] * len(answers), [a.text for a in answers]
        assert sorted(a.json()["duplicate"] for a in answers) == [False] + [True] * (len(answers) - 1)
        raced.append((customer, booking["id"], checkout["order_id"]))

    for customer, booking_id, order_id in raced:
        assert await until(lambda c=customer, b=booking_id: booking_status(one, base, c, b), "confirmed") == (
            "confirmed"
        )
        await asyncio.sleep(0.2)  # room for a wrong second application to show
        ledger, deliveries, outcomes = await money(owner_engine, order_id)
        assert (ledger, deliveries, outcomes) == ([("capture", 15_001)], 1, ["confirmed"])
