"""Holds are short until money is on its way, and one customer cannot hold a business's
calendar: at most 2 unpaid holds per business at once and 4 bookings starting on one day
(the types' defaults), staff booking on a customer's behalf exempt. (The clock stands at
2026-11-24 11:00 in Cairo; concurrency is proven in tests/booking/test_booking_races.py.)"""

from __future__ import annotations

from datetime import timedelta

import httpx

from booking_support import BookableShop, book, customer, open_bookable_shop
from class_support import open_gym, publish, take_seat
from support import FakeClock, log_in, sign_up

DAY = "2026-11-26"


async def _prepaid_shop(client: httpx.AsyncClient, barbers: int = 4) -> BookableShop:
    shop = await open_bookable_shop(client, barbers=barbers)
    changed = await client.patch(
        shop.url, headers=shop.owner.headers, json={"rule_overrides": {"payment_policy": "prepay"}}
    )
    assert changed.status_code == 200, changed.text
    return shop


async def test_a_fawry_hold_lasts_the_checkout_window_not_the_fawry_day(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    shop = await open_bookable_shop(client, business_type="consultant", barbers=1, durations=[60])
    held = await book(
        client,
        shop,
        await customer(client),
        f"{DAY}T10:00:00+02:00",
        payment_method="fawry",
        extra_fields={"topic": "Growth"},
    )
    assert held.status_code == 201, held.text
    # 15 minutes (checkout_hold_minutes), whatever the method: Fawry's day is only given
    # once the gateway reports a reference issued (tests/payments: the PENDING webhook).
    expires = (clock.now() + timedelta(minutes=15)).isoformat().replace("+00:00", "Z")
    assert (held.json()["status"], held.json()["hold_expires_at"]) == ("held", expires)


async def test_a_customer_holds_at_most_two_unpaid_bookings(client: httpx.AsyncClient) -> None:
    shop = await _prepaid_shop(client)
    mona = await customer(client)
    starts = [f"{DAY}T{hour:02d}:00:00+02:00" for hour in (10, 11, 12)]
    held = [await book(client, shop, mona, start, payment_method="card") for start in starts[:2]]
    assert [r.status_code for r in held] == [201, 201], [r.text for r in held]
    third = await book(client, shop, mona, starts[2], payment_method="card")
    assert third.status_code == 409, third.text
    assert (third.json()["code"], third.json()["rule"], third.json()["limit"]) == (
        "too_many_holds",
        "max_unpaid_holds_per_customer",
        2,
    )
    # Letting one go makes room; someone else is not affected at all.
    let_go = await client.post(f"{shop.url}/bookings/{held[0].json()['id']}/cancel", headers=mona.headers)
    assert let_go.status_code == 200, let_go.text
    assert (await book(client, shop, mona, starts[2], payment_method="card")).status_code == 201
    assert (
        await book(client, shop, await customer(client), starts[0], payment_method="card")
    ).status_code == 201


async def test_a_lapsed_hold_no_longer_counts(client: httpx.AsyncClient, clock: FakeClock) -> None:
    shop = await _prepaid_shop(client)
    mona = await customer(client)
    for hour in (10, 11):
        assert (
            await book(client, shop, mona, f"{DAY}T{hour:02d}:00:00+02:00", payment_method="card")
        ).status_code == 201
    clock.advance(timedelta(minutes=11))  # the barbershop's checkout window is 10 minutes
    mona = await log_in(client, mona.email, mona.user_id)
    again = await book(client, shop, mona, f"{DAY}T12:00:00+02:00", payment_method="card")
    assert again.status_code == 201, again.text


async def test_one_customer_books_at_most_four_starts_a_day_at_a_pay_at_venue_shop(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_bookable_shop(client, barbers=3)
    mona = await customer(client)
    answers = [(await book(client, shop, mona, f"{DAY}T{hour:02d}:00:00+02:00")) for hour in range(9, 18)]
    assert [r.status_code for r in answers] == [201] * 4 + [409] * 5
    assert {r.json()["code"] for r in answers[4:]} == {"daily_limit_reached"}
    assert answers[4].json()["limit"] == 4
    # Another day is another day; the front desk books for her on any day.
    assert (await book(client, shop, mona, "2026-11-27T10:00:00+02:00")).status_code == 201
    on_behalf = await client.post(
        f"{shop.url}/bookings",
        headers=shop.owner.headers,
        json={
            "service_id": shop.service_id,
            "starts_at": f"{DAY}T17:00:00+02:00",
            "customer_id": str(mona.user_id),
        },
    )
    assert on_behalf.status_code == 201, on_behalf.text


async def test_a_business_sets_its_own_limits_within_the_types_bounds(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=2)
    raised = await client.patch(
        shop.url,
        headers=shop.owner.headers,
        json={"rule_overrides": {"max_bookings_per_customer_per_day": 6}},
    )
    assert raised.status_code == 200, raised.text
    mona = await customer(client)
    answers = [
        (await book(client, shop, mona, f"{DAY}T{hour:02d}:00:00+02:00")).status_code for hour in range(9, 16)
    ]
    assert answers == [201] * 6 + [409]
    too_far = await client.patch(
        shop.url,
        headers=shop.owner.headers,
        json={"rule_overrides": {"max_bookings_per_customer_per_day": 500}},
    )
    assert (too_far.status_code, too_far.json()["errors"][0]["rule"]) == (422, "out_of_bounds")


async def test_one_account_cannot_hold_every_seat_of_a_class(client: httpx.AsyncClient) -> None:
    gym = await open_gym(client, capacity=5)  # prepay: seats are held until paid
    session_id = (await publish(client, gym))["sessions"][1]["id"]
    greedy = await sign_up(client, "greedy")
    answers = [await take_seat(client, gym, session_id, greedy, payment_method="fawry") for _ in range(5)]
    assert [r.status_code for r in answers] == [201, 201, 409, 409, 409]
    assert answers[2].json()["code"] == "too_many_holds"
    seats = await client.get(f"{gym.base}/class-sessions/{session_id}", headers=gym.owner.headers)
    assert seats.json()["seats_left"] == 3
