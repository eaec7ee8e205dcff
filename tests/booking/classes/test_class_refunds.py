"""Calling a class off refunds its paid seats in full, in the cancelling transaction.

A prepay gym, served over real HTTP on a thread (its own pool, the suite's clock) beside
the Kashier simulator: a seat is paid on the simulator's hosted page, its webhook comes
back to the API and the real worker applies it; the owner cancels the session (then the
series); the refund intents are recorded with the cancellation, the worker sends them to
the simulator and its refund webhooks put the money back in the ledger."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.api.app import create_app
from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.jobs.runtime import Runtime
from booklnk.jobs.tasks import create_job_app
from booklnk.payments.kashier.simulator import ServerThread, SimulatorSettings
from booklnk.payments.kashier.simulator import create_app as create_simulator
from class_support import Gym, open_gym, publish, take_seat
from support import Account, FakeClock, sign_up

CARD = {"method": "card", "cardNumber": "5123450000000008", "expiry": "12/39", "cvv": "100"}
PRICE = 20_000  # the class's price (class_support), paid in full up front
WEBHOOK_SECONDS = 15


@pytest.fixture(scope="module")
def simulator_url(settings: Settings) -> Iterator[str]:
    """The simulator with the keys the suite's settings carry (Kashier's retries compressed)."""
    sim = SimulatorSettings(
        mid=settings.kashier_mid,
        api_key=settings.kashier_api_key.get_secret_value(),
        secret_key=settings.kashier_secret_key.get_secret_value(),
        retry_delays=(0.05, 0.1, 0.2),
        delivery_timeout=2,
    )
    with ServerThread(create_simulator(sim)) as server:
        yield server.url


@dataclass(frozen=True)
class Stack:
    http: httpx.AsyncClient  # to the served API
    simulator_url: str
    settings: Settings
    db: Database  # the worker's
    clock: FakeClock
    database_url: str
    owner_engine: AsyncEngine

    async def run_worker(self) -> None:
        """The real worker until no job is due; none may have failed."""
        job_app = create_job_app(self.database_url)
        async with job_app.open_async():
            await job_app.run_worker_async(
                wait=False,
                install_signal_handlers=False,
                listen_notify=False,
                additional_context={"runtime": Runtime(self.db, self.clock, self.settings)},
            )
        failed = await self.rows(
            "SELECT task_name FROM procrastinate_jobs"
            " WHERE status = 'failed' OR (status = 'todo' AND attempts > 0)"
        )
        assert failed == []

    async def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        async with self.owner_engine.connect() as conn:
            return [tuple(r) for r in await conn.execute(text(sql), params)]

    async def webhooks(self, order_id: str, count: int) -> None:
        """Wait until the simulator's `count`-th webhook for the order is stored."""
        deadline = time.monotonic() + WEBHOOK_SECONDS
        sql = "SELECT count(*) FROM webhook_delivery WHERE merchant_order_id = :o"
        while (await self.rows(sql, o=order_id))[0][0] < count:
            assert time.monotonic() < deadline, f"webhook {count} for {order_id} never came"
            await asyncio.sleep(0.05)


@pytest.fixture
async def stack(
    db: Database,
    database_url: str,
    settings: Settings,
    clock: FakeClock,
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> AsyncIterator[Stack]:
    served_db = Database(database_url, app_role=settings.db_app_role, pool_size=2)
    app = create_app(settings, served_db, clock=clock)  # its lifespan disposes served_db
    server = ServerThread(app)
    wired = settings.model_copy(
        update={
            "public_base_url": server.url,  # the simulator's webhooks come back here
            "kashier_hpp_url": simulator_url,
            "kashier_api_url": simulator_url,
            "kashier_fep_url": simulator_url,
        }
    )
    app.state.settings = wired
    with server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            yield Stack(http, simulator_url, wired, db, clock, database_url, owner_engine)


async def _held_seat(stack: Stack, gym: Gym, session_id: str) -> tuple[Account, str]:
    customer = await sign_up(stack.http, "member")
    seat = await take_seat(stack.http, gym, session_id, customer, payment_method="card")
    assert (seat.status_code, seat.json()["status"]) == (201, "held"), seat.text
    return customer, str(seat.json()["id"])


async def _paid_seat(stack: Stack, gym: Gym, session_id: str) -> tuple[str, str]:
    """A seat paid by card on the simulator and confirmed by the worker: (booking, order)."""
    customer, booking_id = await _held_seat(stack, gym, session_id)
    checkout = await stack.http.post(
        f"{gym.base}/bookings/{booking_id}/payments", headers=customer.headers, json={"method": "card"}
    )
    assert checkout.status_code == 201, checkout.text
    order_id = checkout.json()["order_id"]
    async with httpx.AsyncClient(timeout=10) as browser:
        assert (await browser.get(checkout.json()["url"])).status_code == 200
        paid = await browser.post(
            f"{stack.simulator_url}/__sim/pay", json={"merchantOrderId": order_id, **CARD}
        )
        assert paid.json()["status"] == "SUCCESS", paid.text
    await stack.webhooks(order_id, 1)
    await stack.run_worker()
    booking = await stack.http.get(f"{gym.base}/bookings/{booking_id}", headers=customer.headers)
    assert booking.json()["status"] == "confirmed", booking.text
    return booking_id, order_id


async def _intents(stack: Stack) -> list[tuple[Any, ...]]:
    return await stack.rows(
        "SELECT booking_id::text, amount_minor, reason FROM refund_intent ORDER BY created_at"
    )


async def _ledger(stack: Stack, order_id: str) -> list[tuple[Any, ...]]:
    return await stack.rows(
        "SELECT l.kind::text, l.amount_minor FROM ledger_entry l"
        " JOIN payment_attempt a ON a.business_id = l.business_id AND a.id = l.attempt_id"
        " WHERE a.order_id = :o ORDER BY l.created_at, l.kind",
        o=order_id,
    )


async def test_cancelling_a_session_then_its_series_refunds_every_paid_seat_in_full(stack: Stack) -> None:
    gym = await open_gym(stack.http)  # a gym asks for payment up front
    created = await publish(stack.http, gym)
    first, later = created["sessions"][1]["id"], created["sessions"][3]["id"]
    paid, order = await _paid_seat(stack, gym, first)
    _, unpaid = await _held_seat(stack, gym, first)
    paid_later, later_order = await _paid_seat(stack, gym, later)
    assert await _ledger(stack, order) == [("capture", PRICE)]

    cancelled = await stack.http.post(f"{gym.base}/class-sessions/{first}/cancel", headers=gym.owner.headers)
    assert cancelled.status_code == 200, cancelled.text
    # With the cancellation: one full refund for the paid seat, none for the unpaid hold.
    assert await _intents(stack) == [(paid, PRICE, "cancelled_by_business")]
    unpaid_now = await stack.http.get(f"{gym.base}/bookings/{unpaid}", headers=gym.owner.headers)
    assert unpaid_now.json()["status"] == "cancelled"

    await stack.run_worker()  # sends the refund; Kashier's refund webhook follows
    await stack.webhooks(order, 2)
    await stack.run_worker()
    assert await _ledger(stack, order) == [("capture", PRICE), ("refund", PRICE)]

    series = created["series"]["id"]
    ended = await stack.http.post(f"{gym.base}/class-series/{series}/cancel", headers=gym.owner.headers)
    assert ended.status_code == 200, ended.text
    assert (await _intents(stack))[1:] == [(paid_later, PRICE, "cancelled_by_business")]
    await stack.run_worker()
    await stack.webhooks(later_order, 2)
    await stack.run_worker()
    assert await _ledger(stack, later_order) == [("capture", PRICE), ("refund", PRICE)]
