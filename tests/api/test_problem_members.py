"""RFC 9457 members keep their meaning: a problem's `status` is always the HTTP status,
whatever extension members the error carries."""

from __future__ import annotations

import httpx

from booking_support import book, customer, open_bookable_shop

START = "2026-11-26T10:00:00+02:00"


async def test_an_invalid_transition_names_the_booking_status_apart_from_the_http_status(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    created = await book(client, shop, mona, START, staff_id=shop.staff_ids[0])
    assert created.status_code == 201, created.text
    url = f"{shop.url}/bookings/{created.json()['id']}/cancel"
    assert (await client.post(url, headers=mona.headers)).status_code == 200
    again = await client.post(url, headers=mona.headers)
    assert again.status_code == 409
    problem = again.json()
    assert (problem["code"], problem["status"]) == ("invalid_transition", 409)
    assert (problem["booking_status"], problem["action"]) == ("cancelled", "cancel")
