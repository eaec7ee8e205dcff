"""Paying at the venue is real: a pay-at-venue booking may still be paid online; staff
record money taken and handed back at the desk (cash, card terminal) as ledger entries
naming who recorded them; every booking shows its price, deposit, paid, refunded and
balance due; staff book a walk-in for now on any payment policy. (The clock stands at
2026-11-24 11:00 in Cairo.)"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booking_support import BookableShop, book, customer, open_bookable_shop
from support import Account, FakeClock, add_staff, sign_up

START = "2026-11-26T10:00:00+02:00"
PRICE = 15_000  # booking_support's cut


async def _desk(
    client: httpx.AsyncClient,
    shop: BookableShop,
    who: Account,
    booking_id: str,
    kind: str,
    amount: int,
    **headers: str,
) -> httpx.Response:
    return await client.post(
        f"{shop.url}/bookings/{booking_id}/desk-{kind}",
        headers={**who.headers, **headers},
        json={"amount_minor": amount, "method": "cash"},
    )


def _money(body: dict[str, Any]) -> tuple[int, int, int, int, int]:
    money = body["money"]
    return (
        money["price_minor"],
        money["deposit_minor"],
        money["paid_minor"],
        money["refunded_minor"],
        money["balance_due_minor"],
    )


async def test_money_taken_and_handed_back_at_the_desk(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    barber = await sign_up(client, "barber")
    await add_staff(client, shop.owner, shop.business_id, barber)
    mona = await customer(client)
    booked = await book(client, shop, mona, START)
    assert booked.json()["status"] == "confirmed"  # pay at the venue
    assert _money(booked.json()) == (PRICE, 0, 0, 0, PRICE)
    booking_id = booked.json()["id"]

    paid = await _desk(client, shop, barber, booking_id, "payments", 10_000)
    assert paid.status_code == 201, paid.text
    assert (paid.json()["entry"]["recorded_by"], paid.json()["entry"]["desk_method"]) == (
        str(barber.user_id),
        "cash",
    )
    assert _money(paid.json()["booking"]) == (PRICE, 0, 10_000, 0, 5_000)
    too_much = await _desk(client, shop, barber, booking_id, "payments", 5_001)
    assert (too_much.status_code, too_much.json()["errors"][0]["rule"]) == (422, "exceeds_balance_due")
    back = await _desk(client, shop, barber, booking_id, "refunds", 3_000)
    assert _money(back.json()["booking"]) == (PRICE, 0, 7_000, 3_000, 8_000)
    over = await _desk(client, shop, barber, booking_id, "refunds", 7_001)
    assert (over.status_code, over.json()["errors"][0]["rule"]) == (422, "exceeds_desk_paid")
    refused = await _desk(client, shop, mona, booking_id, "payments", 100)
    assert refused.status_code == 403

    shown = await client.get(f"{shop.url}/bookings/{booking_id}/payments", headers=mona.headers)
    assert shown.status_code == 200, shown.text
    assert (shown.json()["paid_minor"], shown.json()["desk_paid_minor"]) == (7_000, 7_000)
    assert [(e["kind"], e["amount_minor"]) for e in shown.json()["desk"]] == [
        ("capture", 10_000),
        ("refund", 3_000),
    ]
    async with owner_engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT channel, kind, amount_minor, recorded_by FROM ledger_entry"
                    " WHERE booking_id = :id ORDER BY created_at, kind"
                ),
                {"id": booking_id},
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("desk", "capture", 10_000, barber.user_id),
        ("desk", "refund", 3_000, barber.user_id),
    ]


async def test_a_desk_payment_retried_with_its_key_is_recorded_once(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    booking_id = (await book(client, shop, await customer(client), START)).json()["id"]
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await _desk(client, shop, shop.owner, booking_id, "payments", 4_000, **key)
    again = await _desk(client, shop, shop.owner, booking_id, "payments", 4_000, **key)
    assert (first.status_code, again.status_code, again.headers["idempotent-replayed"]) == (201, 201, "true")
    shown = await client.get(f"{shop.url}/bookings/{booking_id}", headers=shop.owner.headers)
    assert _money(shown.json())[2] == 4_000


async def test_a_pay_at_venue_booking_can_still_be_paid_online(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    booking_id = (await book(client, shop, mona, START)).json()["id"]
    checkout = await client.post(
        f"{shop.url}/bookings/{booking_id}/payments", headers=mona.headers, json={"method": "card"}
    )
    assert checkout.status_code == 201, checkout.text
    assert (checkout.json()["amount_minor"], checkout.json()["purpose"]) == (PRICE, "balance")
    # Once the desk has taken it all, nothing is left to pay online.
    await _desk(client, shop, shop.owner, booking_id, "payments", PRICE)
    nothing = await client.post(
        f"{shop.url}/bookings/{booking_id}/payments", headers=mona.headers, json={"method": "card"}
    )
    assert (nothing.status_code, nothing.json()["code"]) == (409, "booking_not_payable")


async def test_a_prepay_shop_takes_a_walk_in_now_paid_at_the_desk(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    prepay = await client.patch(
        shop.url, headers=shop.owner.headers, json={"rule_overrides": {"payment_policy": "prepay"}}
    )
    assert prepay.status_code == 200, prepay.text
    clock.current = clock.current.replace(hour=9, minute=7, second=42)  # 11:07:42 in Cairo, off the grid
    walk_in = await client.post(
        f"{shop.url}/bookings",
        headers=shop.owner.headers,
        json={"service_id": shop.service_id, "walk_in": True, "guest_name": "Ahmed at the door"},
    )
    assert walk_in.status_code == 201, walk_in.text
    body = walk_in.json()
    assert (body["status"], body["starts_at"], body["customer_id"], body["guest_name"]) == (
        "checked_in",
        "2026-11-24T09:07:00Z",
        None,
        "Ahmed at the door",
    )
    assert _money(body) == (PRICE, 0, 0, 0, PRICE)
    paid = await _desk(client, shop, shop.owner, body["id"], "payments", PRICE)
    assert _money(paid.json()["booking"])[4] == 0
    # A customer's own booking at a prepay shop is still held until paid; a walk-in is staff's.
    mona = await customer(client)
    assert (await book(client, shop, mona, START)).json()["errors"][0]["rule"] == "payment_method_required"
    not_staff = await client.post(
        f"{shop.url}/bookings", headers=mona.headers, json={"service_id": shop.service_id, "walk_in": True}
    )
    assert not_staff.status_code == 403
    nameless = await client.post(
        f"{shop.url}/bookings",
        headers=shop.owner.headers,
        json={"service_id": shop.service_id, "walk_in": True},
    )
    assert (nameless.status_code, nameless.json()["errors"][0]["field"]) == (422, "body.guest_name")


async def test_a_held_booking_paid_at_the_desk_is_confirmed(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    await client.patch(
        shop.url, headers=shop.owner.headers, json={"rule_overrides": {"payment_policy": "prepay"}}
    )
    mona = await customer(client)
    held = await book(client, shop, mona, START, payment_method="card")
    assert (held.json()["status"], held.json()["money"]["deposit_minor"]) == ("held", PRICE)
    part = await _desk(client, shop, shop.owner, held.json()["id"], "payments", PRICE - 1)
    assert part.json()["booking"]["status"] == "held"
    rest = await _desk(client, shop, shop.owner, held.json()["id"], "payments", 1)
    assert rest.json()["booking"]["status"] == "confirmed"


async def test_a_cancellation_says_what_the_desk_hands_back(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    booking_id = (await book(client, shop, await customer(client), START)).json()["id"]
    await _desk(client, shop, shop.owner, booking_id, "payments", 6_000)
    cancelled = await client.post(f"{shop.url}/bookings/{booking_id}/cancel", headers=shop.owner.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["cancellation"]["desk_refund_due_minor"] == 6_000
    assert _money(cancelled.json())[4] == 0  # nothing is due on a cancelled booking
