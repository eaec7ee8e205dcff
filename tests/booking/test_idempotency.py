"""Idempotency-Key on booking creation: a retry gets the original answer, never a second booking."""

from __future__ import annotations

import asyncio

import httpx
from booking_support import book, customer, open_bookable_shop
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

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


async def test_concurrent_requests_with_one_key_book_once(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    shop = await open_bookable_shop(client, barbers=3)
    mona = await customer(client)
    headers = {**mona.headers, "Idempotency-Key": "double-click"}
    body = {"service_id": shop.service_id, "starts_at": TOMORROW_10}
    responses = await asyncio.gather(
        *(client.post(f"{shop.url}/bookings", headers=headers, json=body) for _ in range(5))
    )
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}
    assert statuses.count(201) >= 1
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {"idempotency_key_in_flight"}
    assert len({r.json()["id"] for r in responses if r.status_code == 201}) == 1
    assert await _bookings(owner_engine) == 1


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
