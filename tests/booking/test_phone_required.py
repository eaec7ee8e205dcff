"""An owner may require a proven mobile number of customers who book themselves (no-shows
are called); staff booking for a customer are not held to it."""

from __future__ import annotations

import httpx

from booking_support import book, customer, open_bookable_shop
from class_support import open_gym, publish, take_seat
from support import prove_phone

THURSDAY_10 = "2026-11-26T10:00:00+02:00"


async def test_a_business_that_requires_a_phone_refuses_a_customer_without_one(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    required = await client.patch(shop.url, headers=shop.owner.headers, json={"require_phone": True})
    assert (required.status_code, required.json()["require_phone"]) == (200, True)
    mona = await customer(client)

    refused = await book(client, shop, mona, THURSDAY_10)
    assert (refused.status_code, refused.json()["code"]) == (403, "phone_required")
    arabic = await client.post(
        f"{shop.url}/bookings",
        headers={**mona.headers, "Accept-Language": "ar"},
        json={"service_id": shop.service_id, "starts_at": THURSDAY_10},
    )
    assert "موبايل" in arabic.json()["detail"]

    await prove_phone(client, mona, "+201001234567")
    assert (await book(client, shop, mona, THURSDAY_10)).status_code == 201


async def test_staff_book_for_a_customer_without_a_phone(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    await client.patch(shop.url, headers=shop.owner.headers, json={"require_phone": True})
    walk_in = await client.post(
        f"{shop.url}/bookings",
        headers=shop.owner.headers,
        json={"service_id": shop.service_id, "starts_at": THURSDAY_10, "guest_name": "Hany"},
    )
    assert walk_in.status_code == 201, walk_in.text


async def test_class_seats_and_waitlists_ask_for_the_phone_too(client: httpx.AsyncClient) -> None:
    gym = await open_gym(client, pay_at_venue=True, capacity=1)
    await client.patch(gym.base, headers=gym.owner.headers, json={"require_phone": True})
    session_id = (await publish(client, gym))["sessions"][1]["id"]
    member = await customer(client)
    assert (await take_seat(client, gym, session_id, member)).json()["code"] == "phone_required"
    await prove_phone(client, member, "+201112345678")
    assert (await take_seat(client, gym, session_id, member)).status_code == 201
    late = await customer(client)
    joined = await client.post(
        f"{gym.base}/class-sessions/{session_id}/waitlist", headers=late.headers, json={}
    )
    assert (joined.status_code, joined.json()["code"]) == (403, "phone_required")


async def test_by_default_no_phone_is_asked_for(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    shown = await client.get(shop.url, headers=shop.owner.headers)
    assert shown.json()["require_phone"] is False
    assert (await book(client, shop, await customer(client), THURSDAY_10)).status_code == 201
