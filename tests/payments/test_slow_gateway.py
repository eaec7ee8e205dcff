"""A slow Kashier holds only the jobs that call it. Six refunds whose calls Kashier answers
after ten seconds fill the worker's gateway queue; a card payment made meanwhile is
confirmed while every one of them still waits (before, the refunds held every job slot,
and the payment's confirmation waited for them). Over the live stack: `booklnk serve`, one
real `booklnk worker` (default concurrency), the simulator over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from flow_support import (
    CARD,
    booking_status,
    held_booking,
    ok,
    open_consultancy,
    paid_booking,
    pay,
    set_faults,
    start_checkout,
    until,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from race_support import LiveServer, running_job_workers, running_server

SLOW_SECONDS = 10.0  # how long Kashier takes to answer each refund call
REFUNDS = 6  # more than the gateway queue runs at once (4): some wait their turn
SETTLE_SECONDS = 60.0


@pytest.fixture(scope="module")
def api(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, kashier_env: dict[str, str]
) -> Iterator[LiveServer]:
    """The API alone: the test runs its worker."""
    with running_server(database_url, tmp_path_factory, kashier_env) as server:
        yield server


async def _intents(engine: AsyncEngine, order_ids: list[str]) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT r.status::text FROM refund_intent r JOIN payment_attempt a"
                " ON a.business_id = r.business_id AND a.id = r.attempt_id WHERE a.order_id = ANY(:o)"
            ),
            {"o": order_ids},
        )
        return sorted(r[0] for r in rows)


async def _sending(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        found = await conn.scalar(
            text(
                "SELECT count(*) FROM procrastinate_jobs"
                " WHERE task_name = 'payments.send_refund' AND status = 'doing'"
            )
        )
    return int(found or 0)


async def _wait_for(probe: Callable[[], Awaitable[bool]], within: float = SETTLE_SECONDS) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await probe():
        assert asyncio.get_running_loop().time() < deadline, "gave up waiting"
        await asyncio.sleep(0.2)


async def test_a_card_payment_is_confirmed_while_refund_calls_wait_on_kashier(
    http: httpx.AsyncClient,
    database_url: str,
    kashier_env: dict[str, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
    tmp_path: Path,
) -> None:
    consultancy = await open_consultancy(http)
    base, owner, _ = consultancy
    with running_job_workers(database_url, tmp_path, 1, kashier_env):
        paid = await asyncio.gather(*(paid_booking(http, consultancy, simulator_url) for _ in range(REFUNDS)))
        orders = [checkout["order_id"] for _, _, checkout in paid]
        for (_, booking, _), order_id in zip(paid, orders, strict=True):
            await set_faults(simulator_url, order_id, refund_delay_seconds=SLOW_SECONDS)
            await ok(http, owner, "POST", f"{base}/bookings/{booking['id']}/refunds", {"amount_minor": 1_000})

        async def gateway_busy() -> bool:
            return await _sending(owner_engine) >= 4

        await _wait_for(gateway_busy)
        customer, booking = await held_booking(http, consultancy)
        checkout = await start_checkout(http, base, customer, booking)
        await pay(simulator_url, checkout, **CARD)
        status = await until(lambda: booking_status(http, base, customer, booking["id"]), "confirmed")
        waiting = await _intents(owner_engine, orders)
        assert status == "confirmed"
        assert len(waiting) == REFUNDS
        assert set(waiting) == {"requested", "sending"}  # not one refund call answered yet

        async def all_refunded() -> bool:
            return await _intents(owner_engine, orders) == ["settled"] * REFUNDS

        await _wait_for(all_refunded)
