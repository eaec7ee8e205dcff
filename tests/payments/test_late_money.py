"""Money that arrives late, for nobody, or not as asked: never lost, never applied silently.

The hold's lapse is played by the database (the sweep's own update), since the live
stack runs on the real clock."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from flow_support import CARD, booking_status, held_booking, money, ok, pay, start_checkout, until
from kashier_support import API_KEY, SECRET_KEY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.payments import settlement
from booklnk.payments.kashier.signing import webhook_signature
from support import Account, sign_up


async def _lapse(engine: AsyncEngine, booking_id: str) -> None:
    """What the expiry job does to a lapsed hold."""
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE booking SET status = 'expired', version = version + 1 WHERE id = :b"),
            {"b": booking_id},
        )
        await conn.execute(
            text("UPDATE allocation SET active = false WHERE booking_id = :b"), {"b": booking_id}
        )


async def _post_webhook(http: httpx.AsyncClient, data: dict[str, Any]) -> httpx.Response:
    body = {"event": "pay", "data": data}
    headers = {"content-type": "application/json", "x-kashier-signature": webhook_signature(API_KEY, data)}
    return await http.post("/v1/webhooks/kashier", content=json.dumps(body), headers=headers)


def _pay_data(order_id: str, amount: float) -> dict[str, Any]:
    return {
        "merchantOrderId": order_id,
        "kashierOrderId": f"k-{uuid.uuid4().hex[:8]}",
        "transactionId": f"TX-{uuid.uuid4().hex[:10]}",
        "status": "SUCCESS",
        "method": "card",
        "amount": amount,
        "currency": "EGP",
        "signatureKeys": ["amount", "currency", "merchantOrderId", "status", "transactionId"],
    }


async def _outcomes(engine: AsyncEngine, order_id: str) -> list[str]:
    return (await money(engine, order_id))[2]


async def test_late_money_for_a_free_time_confirms_again_and_says_so(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> None:
    base = consultancy[0]
    customer, booking = await held_booking(http, consultancy)
    checkout = await start_checkout(http, base, customer, booking)
    await _lapse(owner_engine, booking["id"])
    await pay(simulator_url, checkout, **CARD)

    assert (
        await until(lambda: booking_status(http, base, customer, booking["id"]), "confirmed") == "confirmed"
    )
    after = await ok(http, customer, "GET", f"{base}/bookings/{booking['id']}")
    assert "after the hold had expired" in after["status_reason"]
    assert await _outcomes(owner_engine, checkout["order_id"]) == ["reconfirmed"]


async def test_late_money_for_a_taken_time_is_refunded_and_the_booking_says_why(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> None:
    base, _, service_id = consultancy
    customer, booking = await held_booking(http, consultancy)
    checkout = await start_checkout(http, base, customer, booking)
    await _lapse(owner_engine, booking["id"])
    rival = await sign_up(http, "rival")
    body = {
        "service_id": service_id,
        "starts_at": booking["starts_at"],
        "payment_method": "card",
        "extra_fields": {"topic": "Mine now"},
    }
    await ok(http, rival, "POST", f"{base}/bookings", body)
    await pay(simulator_url, checkout, **CARD)

    async def balance() -> tuple[int, int, int]:
        found = await ok(http, customer, "GET", f"{base}/bookings/{booking['id']}/payments")
        return found["captured_minor"], found["refunded_minor"], found["paid_minor"]

    assert await until(balance, (15_001, 15_001, 0)) == (15_001, 15_001, 0)
    after = await ok(http, customer, "GET", f"{base}/bookings/{booking['id']}")
    assert after["status"] == "expired"
    assert "refunded in full" in after["status_reason"]
    assert await _outcomes(owner_engine, checkout["order_id"]) == ["refunded:slot_taken", "refund_recorded"]


async def test_money_for_an_unknown_order_is_kept_and_flagged(
    http: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    order_id = f"bk-nobody-{uuid.uuid4().hex[:8]}"
    response = await _post_webhook(http, _pay_data(order_id, 99.5))
    assert response.status_code == 200, response.text
    assert await until(lambda: _outcomes(owner_engine, order_id), ["unknown_order"]) == ["unknown_order"]


async def test_an_amount_that_does_not_match_is_flagged_not_applied(
    http: httpx.AsyncClient, consultancy: tuple[str, Account, str], owner_engine: AsyncEngine
) -> None:
    base, owner, _ = consultancy
    customer, booking = await held_booking(http, consultancy)
    checkout = await start_checkout(http, base, customer, booking)
    response = await _post_webhook(http, _pay_data(checkout["order_id"], 1.0))
    assert response.status_code == 200, response.text

    assert await until(lambda: _outcomes(owner_engine, checkout["order_id"]), ["flagged_amount"]) == [
        "flagged_amount"
    ]
    assert await booking_status(http, base, customer, booking["id"]) == "held"
    found = await ok(http, owner, "GET", f"{base}/bookings/{booking['id']}/payments")
    attempt = found["attempts"][0]
    assert attempt["status"] == "flagged"
    assert "expected 15001 EGP" in attempt["review_reason"]
    # Money was taken, if not the right amount: no second payment until a person has looked.
    again = await http.post(
        f"{base}/bookings/{booking['id']}/payments", headers=customer.headers, json={"method": "card"}
    )
    assert (again.status_code, again.json()["code"]) == (409, "booking_not_payable")


async def test_a_flag_stays_when_the_right_amount_follows(
    http: httpx.AsyncClient, consultancy: tuple[str, Account, str], owner_engine: AsyncEngine
) -> None:
    """The right payment after a wrong one confirms the booking, but the attempt stays
    flagged: the wrong money is still there for a person to look at. Before, the capture
    marked the attempt paid and the flag was gone from every list of attempts to review."""
    base, owner, _ = consultancy
    customer, booking = await held_booking(http, consultancy)
    checkout = await start_checkout(http, base, customer, booking)
    assert (await _post_webhook(http, _pay_data(checkout["order_id"], 1.0))).status_code == 200
    assert (await _post_webhook(http, _pay_data(checkout["order_id"], 150.01))).status_code == 200

    expected = ["flagged_amount", "confirmed"]
    assert await until(lambda: _outcomes(owner_engine, checkout["order_id"]), expected) == expected
    assert await booking_status(http, base, customer, booking["id"]) == "confirmed"
    attempt = (await ok(http, owner, "GET", f"{base}/bookings/{booking['id']}/payments"))["attempts"][0]
    assert attempt["status"] == "flagged"
    assert "pay SUCCESS: 100 EGP, expected 15001 EGP" in attempt["review_reason"]


async def _gateway_refunded(simulator_url: str, order_id: str) -> float:
    async with httpx.AsyncClient() as sim:
        found = await sim.get(
            f"{simulator_url}/payments/orders/{order_id}", headers={"Authorization": SECRET_KEY}
        )
    refunded: float = found.json()["response"]["totalRefundedAmount"]
    return refunded


async def test_a_second_payment_is_refunded_from_its_own_attempt(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> None:
    """Two hosted pages opened for one booking and both paid: the first confirms it, the
    second is late money for a booking already paid, given back from that second order."""
    base = consultancy[0]
    customer, booking = await held_booking(http, consultancy)
    first = await start_checkout(http, base, customer, booking)
    second = await start_checkout(http, base, customer, booking)
    await pay(simulator_url, first, **CARD)
    assert (
        await until(lambda: booking_status(http, base, customer, booking["id"]), "confirmed") == "confirmed"
    )
    await pay(simulator_url, second, **CARD)

    refunded = ["refunded:booking_confirmed", "refund_recorded"]
    assert await until(lambda: _outcomes(owner_engine, second["order_id"]), refunded) == refunded
    assert (await money(owner_engine, second["order_id"]))[0] == [("capture", 15_001), ("refund", 15_001)]
    assert (await money(owner_engine, first["order_id"]))[0] == [("capture", 15_001)]
    assert await _gateway_refunded(simulator_url, first["order_id"]) == 0
    assert await _gateway_refunded(simulator_url, second["order_id"]) == 150.01
    after = await ok(http, customer, "GET", f"{base}/bookings/{booking['id']}")
    assert (after["status"], after["status_reason"]) == (
        "confirmed",
        settlement.LATE_REFUNDED["booking_confirmed"],
    )


async def test_a_second_capture_of_a_paid_order_refunds_only_that_capture(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> None:
    """One order captured twice (the gateway charged the card again): the first capture
    confirmed the booking; the surplus goes back, the legitimate payment stays."""
    base = consultancy[0]
    customer, booking = await held_booking(http, consultancy)
    checkout = await start_checkout(http, base, customer, booking)
    await pay(simulator_url, checkout, **CARD)
    assert (
        await until(lambda: booking_status(http, base, customer, booking["id"]), "confirmed") == "confirmed"
    )
    again = await _post_webhook(http, _pay_data(checkout["order_id"], 150.01))
    assert again.status_code == 200, again.text

    # The surplus is refunded at the gateway, whose refund webhook then settles it.
    outcomes = ["confirmed", "refunded:booking_confirmed", "refund_recorded"]
    assert await until(lambda: _outcomes(owner_engine, checkout["order_id"]), outcomes) == outcomes
    async with owner_engine.connect() as conn:
        asked = (
            await conn.execute(
                text(
                    "SELECT r.amount_minor FROM refund_intent r JOIN payment_attempt a"
                    " ON a.business_id = r.business_id AND a.id = r.attempt_id WHERE a.order_id = :o"
                ),
                {"o": checkout["order_id"]},
            )
        ).all()
    assert [r[0] for r in asked] == [15_001]  # not 30,002: the first capture is the booking's
