"""Staff book on behalf of the business's own customers only: an account is a customer of
a business once it has booked there (whatever became of that booking). Any other account
id, existing or not, answers the same 422 naming `body.customer_id`, so the answer tells
nothing about which accounts exist; someone new is booked by name (`guest_name`)."""

from __future__ import annotations

import uuid

import httpx

from booking_support import BookableShop, book, customer, open_bookable_shop
from class_support import open_gym, publish, take_seat
from support import Account

TOMORROW_10 = "2026-11-25T10:00:00+02:00"
TOMORROW_11 = "2026-11-25T11:00:00+02:00"
LATER = "2026-11-26T10:00:00+02:00"


def _refused_naming_the_field(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    issue = response.json()["errors"][0]
    assert (issue["field"], issue["rule"]) == ("body.customer_id", "unknown_customer")


async def _has_booked(client: httpx.AsyncClient, shop: BookableShop, who: Account) -> None:
    own = await book(client, shop, who, LATER, staff_id=shop.staff_ids[0])
    assert own.status_code == 201, own.text
    cancelled = await client.post(f"{shop.url}/bookings/{own.json()['id']}/cancel", headers=who.headers)
    assert cancelled.status_code == 200, cancelled.text


async def test_staff_cannot_attach_a_booking_to_someone_elses_account(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    stranger = await customer(client)
    for account_id in (stranger.user_id, uuid.uuid4()):
        _refused_naming_the_field(
            await book(client, shop, shop.owner, TOMORROW_10, customer_id=str(account_id))
        )
    # A customer of another business is not one of this business's.
    elsewhere = await open_bookable_shop(client, barbers=1)
    await _has_booked(client, elsewhere, stranger)
    _refused_naming_the_field(
        await book(client, shop, shop.owner, TOMORROW_10, customer_id=str(stranger.user_id))
    )


async def test_staff_book_for_a_customer_who_has_booked_here(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    await _has_booked(client, shop, mona)  # even a booking she then cancelled makes her one
    for_mona = await book(client, shop, shop.owner, TOMORROW_10, customer_id=str(mona.user_id))
    assert (for_mona.status_code, for_mona.json()["customer_id"]) == (201, str(mona.user_id))
    walk_in = await book(client, shop, shop.owner, TOMORROW_11, guest_name="Someone New")
    assert walk_in.status_code == 201, walk_in.text


async def test_staff_take_class_seats_for_the_gyms_customers_only(client: httpx.AsyncClient) -> None:
    gym = await open_gym(client, pay_at_venue=True)
    sessions = (await publish(client, gym))["sessions"]
    friend = await customer(client)
    refused = await take_seat(client, gym, sessions[1]["id"], gym.owner, customer_id=str(friend.user_id))
    _refused_naming_the_field(refused)
    assert (await take_seat(client, gym, sessions[1]["id"], friend)).status_code == 201
    booked = await take_seat(client, gym, sessions[2]["id"], gym.owner, customer_id=str(friend.user_id))
    assert booked.status_code == 201, booked.text
