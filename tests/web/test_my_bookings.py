"""A customer's own bookings in-process (the suite's clock: 2026-11-24 11:00 in Cairo): a
receipt of each booking's money for its customer only, the pay buttons a service's own
payment rules allow, and a place in a class's waitlist that can be left."""

from __future__ import annotations

import re

import httpx
from web_forms import csrf_of, signed_in

from booking_support import book, customer, open_bookable_shop
from class_support import open_gym, publish, take_seat
from support import sign_up

START = "2026-11-26T10:00:00+02:00"


async def test_a_receipt_lists_each_payment_and_refund_and_the_balance_for_its_customer_only(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_bookable_shop(client)
    someone = await customer(client)
    booked = await book(client, shop, someone, START)  # pay at the venue: confirmed, 150.00 due
    booking_id = booked.json()["id"]
    desk = f"{shop.url}/bookings/{booking_id}"
    paid = await client.post(
        f"{desk}/desk-payments", headers=shop.owner.headers, json={"amount_minor": 15_000, "method": "cash"}
    )
    assert paid.status_code == 201, paid.text
    back = await client.post(
        f"{desk}/desk-refunds", headers=shop.owner.headers, json={"amount_minor": 5_000, "method": "cash"}
    )
    assert back.status_code == 201, back.text

    signed_in(client, someone)
    status = await client.get(f"/en/my/{shop.business_id}/{booking_id}")
    receipt_path = f"/en/my/{shop.business_id}/{booking_id}/receipt"
    assert f'href="{receipt_path}"' in status.text
    assert f'href="{receipt_path}"' in (await client.get("/en/my")).text
    receipt = await client.get(receipt_path)
    assert receipt.status_code == 200, receipt.text
    text = re.sub(r"\s+", " ", receipt.text)
    assert "Cut" in text
    assert (await client.get(shop.url, headers=shop.owner.headers)).json()["name"] in text
    assert re.search(r"Payment</td> <td>Cash</td> <td><bdi>EGP\s?150\.00</bdi>", text)
    assert re.search(r"Refund</td> <td>Cash</td> <td><bdi>EGP\s?50\.00</bdi>", text)
    assert re.search(r"Paid</dt><dd><bdi>EGP\s?150\.00</bdi>", text)
    assert re.search(r"Refunded</dt><dd><bdi>EGP\s?50\.00</bdi>", text)
    assert re.search(r"Balance due</dt><dd><bdi>EGP\s?50\.00</bdi>", text)
    assert "@media print" in receipt.text

    arabic = await client.get(f"/ar/my/{shop.business_id}/{booking_id}/receipt")
    assert "إيصال" in arabic.text
    assert '<html lang="ar" dir="rtl">' in arabic.text

    signed_in(client, shop.owner)  # staff of the business, but not the booking's customer
    refused = await client.get(receipt_path)
    assert refused.status_code == 404
    assert "We could not find this booking." in refused.text
    stranger = await customer(client)
    signed_in(client, stranger)
    assert (await client.get(receipt_path)).status_code == 404
    bad = await client.get(f"/en/my/{shop.business_id}/not-a-booking/receipt")
    assert bad.status_code == 404


async def test_the_pay_buttons_follow_the_services_own_payment_rules(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client)  # a barbershop: pay at the venue, card or wallet
    wallet_only = {"payment_overrides": {"payment_policy": "prepay", "payment_methods": ["wallet"]}}
    changed = await client.patch(
        f"{shop.url}/services/{shop.service_id}", headers=shop.owner.headers, json=wallet_only
    )
    assert changed.status_code == 200, changed.text
    someone = await customer(client)
    booked = await book(client, shop, someone, START, payment_method="wallet")
    assert booked.json()["status"] == "held", booked.text
    signed_in(client, someone)
    page = await client.get(f"/en/my/{shop.business_id}/{booked.json()['id']}")
    assert re.findall(r'name="method" value="([a-z]+)"', page.text) == ["wallet"]


async def test_a_customer_sees_her_place_in_a_waitlist_and_leaves_it(client: httpx.AsyncClient) -> None:
    gym = await open_gym(client, capacity=1)
    sessions = (await publish(client, gym))["sessions"]
    session_id = sessions[1]["id"]
    first = await sign_up(client, "member")
    assert (await take_seat(client, gym, session_id, first, payment_method="card")).status_code == 201
    ahead, waiter = await sign_up(client, "ahead"), await sign_up(client, "waiter")
    for who in (ahead, waiter):
        joined = await client.post(
            f"{gym.base}/class-sessions/{session_id}/waitlist",
            headers=who.headers,
            json={"payment_method": "card"},
        )
        assert joined.status_code == 201, joined.text
    # She has never booked here: her place in the line is found all the same.
    signed_in(client, waiter)
    mine = await client.get("/en/my")
    text = re.sub(r"\s+", " ", mine.text)
    assert "Waiting for a seat" in text
    assert "You are number 2 in line" in text
    assert "Spin" in text
    leave = re.search(r'action="(/en/my/[0-9a-f-]+/waitlist/[0-9a-f-]+/[0-9a-f-]+/leave)"', mine.text)
    assert leave is not None
    token = await csrf_of(client, "/en/my")
    left = await client.post(leave.group(1), data={"csrf": token})
    assert left.status_code == 303, left.text
    after = await client.get(left.headers["location"])
    assert "You left the waitlist." in after.text
    assert "You are number" not in after.text
    again = await client.post(leave.group(1), data={"csrf": token})
    assert again.status_code == 404
    assert "<html" in again.text
