"""Idempotency-Key on booking creation: a retry gets the original answer, never a second booking."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booking_support import book, customer, open_bookable_shop
from booklnk.db.database import Database
from support import FakeClock, log_in

TOMORROW_10 = "2026-11-25T10:00:00+02:00"


async def _bookings(owner_engine: AsyncEngine) -> int:
    async with owner_engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM booking"))).scalar_one())


async def test_a_retry_replays_the_original_response(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    shop = await open_bookable_shop(client, barbers=2)
    mona = await customer(client)
    key = {"Idempotency-Key": "7f1c2a90-booking-1"}
    first = await client.post(
        f"{shop.url}/bookings",
        headers={**mona.headers, **key},
        json={"service_id": shop.service_id, "starts_at": TOMORROW_10},
    )
    again = await client.post(
        f"{shop.url}/bookings",
        headers={**mona.headers, **key},
        json={"service_id": shop.service_id, "starts_at": TOMORROW_10},
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert await _bookings(owner_engine) == 1


async def test_the_same_key_with_another_body_is_422(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=2)
    mona = await customer(client)
    key = {"Idempotency-Key": "reused"}
    await client.post(
        f"{shop.url}/bookings",
        headers={**mona.headers, **key},
        json={"service_id": shop.service_id, "starts_at": TOMORROW_10},
    )
    other = await client.post(
        f"{shop.url}/bookings",
        headers={**mona.headers, **key},
        json={"service_id": shop.service_id, "starts_at": "2026-11-25T11:00:00+02:00"},
    )
    assert other.status_code == 422
    assert other.json()["errors"][0] == {
        "field": "header.Idempotency-Key",
        "rule": "key_reused",
        "message": "This key was used with a different request.",
    }


async def _until_a_request_waits_on_a_lock(owner_engine: AsyncEngine) -> None:
    """Poll the server until some backend of this database waits on a lock."""
    probe = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(200):
        async with owner_engine.connect() as conn:
            if (await conn.execute(probe)).scalar_one():
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the first request never reached the booking table")


async def test_a_request_with_a_key_still_in_flight_is_409_then_the_retry_replays(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    shop = await open_bookable_shop(client, barbers=3)
    mona = await customer(client)
    headers = {**mona.headers, "Idempotency-Key": "double-click"}
    body = {"service_id": shop.service_id, "starts_at": TOMORROW_10}
    async with owner_engine.connect() as blocker:
        # The first request claims the key, then waits to write its booking: in flight.
        await blocker.execute(text("LOCK TABLE booking IN EXCLUSIVE MODE"))
        first = asyncio.create_task(client.post(f"{shop.url}/bookings", headers=headers, json=body))
        await _until_a_request_waits_on_a_lock(owner_engine)
        second = await client.post(f"{shop.url}/bookings", headers=headers, json=body)
        await blocker.commit()
    done = await first
    third = await client.post(f"{shop.url}/bookings", headers=headers, json=body)

    assert (second.status_code, second.json()["code"]) == (409, "idempotency_key_in_flight")
    assert done.status_code == 201, done.text
    assert "idempotent-replayed" not in done.headers
    assert (third.status_code, third.headers["idempotent-replayed"]) == (201, "true")
    assert third.json() == done.json()
    assert await _bookings(owner_engine) == 1


async def test_more_keyed_requests_than_the_pool_holds_all_succeed(
    client: httpx.AsyncClient, db: Database, owner_engine: AsyncEngine
) -> None:
    """Each keyed request uses one pooled connection: three times the pool's connections
    in flight at once, and nobody waits on the pool for a second one (or gets a 500)."""
    pool = db.engine.pool
    in_flight = 3 * (pool.size() + pool._max_overflow)  # type: ignore[attr-defined]
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    starts = [f"2026-11-{day}T{hour:02d}:00:00+02:00" for day in range(25, 30) for hour in range(9, 18)][
        :in_flight
    ]
    assert len(starts) == in_flight
    # She has booked here once herself, which makes her one of the shop's customers.
    own = await client.post(
        f"{shop.url}/bookings",
        headers=mona.headers,
        json={"service_id": shop.service_id, "starts_at": "2026-11-28T16:00:00+02:00"},
    )
    assert own.status_code == 201, own.text

    # Booked by the front desk for one customer (a customer alone may book only a few a day).
    responses = await asyncio.gather(
        *(
            client.post(
                f"{shop.url}/bookings",
                headers={**shop.owner.headers, "Idempotency-Key": f"burst-{i}"},
                json={"service_id": shop.service_id, "starts_at": start, "customer_id": str(mona.user_id)},
            )
            for i, start in enumerate(starts)
        )
    )
    assert [r.status_code for r in responses] == [201] * in_flight, [r.text for r in responses if r.is_error]
    assert await _bookings(owner_engine) == in_flight + 1


async def test_a_key_replays_for_24_hours_then_names_a_new_request(
    client: httpx.AsyncClient, clock: FakeClock, owner_engine: AsyncEngine
) -> None:
    shop = await open_bookable_shop(client, barbers=2)
    mona = await customer(client)
    body = {"service_id": shop.service_id, "starts_at": "2026-11-28T10:00:00+02:00"}

    async def post() -> httpx.Response:
        # Access tokens last minutes, the window a day: sign in again at each step.
        fresh = await log_in(client, mona.email, mona.user_id)
        headers = {**fresh.headers, "Idempotency-Key": "a-day-long"}
        return await client.post(f"{shop.url}/bookings", headers=headers, json=body)

    first = await post()
    clock.advance(timedelta(hours=24) - timedelta(seconds=1))
    replayed = await post()
    clock.advance(timedelta(seconds=1))
    anew = await post()

    assert first.status_code == 201, first.text
    assert (replayed.status_code, replayed.headers.get("idempotent-replayed")) == (201, "true")
    assert replayed.json() == first.json()
    assert anew.status_code == 201, anew.text
    assert "idempotent-replayed" not in anew.headers
    assert anew.json()["id"] != first.json()["id"]
    assert await _bookings(owner_engine) == 2


async def test_a_failed_attempt_frees_its_key(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    mona, omar = await customer(client), await customer(client)
    taken = await book(client, shop, mona, TOMORROW_10)
    key = {"Idempotency-Key": "after-a-409"}
    body = {"service_id": shop.service_id, "starts_at": TOMORROW_10}
    refused = await client.post(f"{shop.url}/bookings", headers={**omar.headers, **key}, json=body)
    assert refused.status_code == 409
    await client.post(f"{shop.url}/bookings/{taken.json()['id']}/cancel", headers=mona.headers)
    retried = await client.post(f"{shop.url}/bookings", headers={**omar.headers, **key}, json=body)
    assert retried.status_code == 201
