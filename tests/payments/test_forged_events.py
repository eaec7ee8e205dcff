"""Webhooks that verify but must not move money as they say.

Kashier's signature covers `data`, not `event`: a signed body re-sent under the other
event verifies, and is stored as a distinct delivery, but must move no money. A refund in
another currency, or beyond what was captured, is flagged for a person, not recorded.
Over real HTTP against the live stack (two API processes, two workers) and the simulator."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from flow_support import (
    booking_status,
    major,
    money,
    ok,
    outcomes,
    paid_booking,
    post_webhook,
    set_faults,
    until,
    webhook_data,
)
from kashier_support import API_KEY, MID, SECRET_KEY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.payments.kashier.client import KashierClient, RefundAccepted
from booklnk.payments.kashier.config import KashierConfig
from support import Account


async def _refund_transaction(engine: AsyncEngine, order_id: str) -> str:
    async with engine.connect() as conn:
        found = await conn.scalar(
            text(
                "SELECT i.gateway_transaction_id FROM refund_intent i JOIN payment_attempt a"
                " ON a.business_id = i.business_id AND a.id = i.attempt_id WHERE a.order_id = :o"
            ),
            {"o": order_id},
        )
    assert isinstance(found, str)
    return found


async def _attempt_status(http: httpx.AsyncClient, base: str, who: Account, booking_id: str) -> str:
    found = await ok(http, who, "GET", f"{base}/bookings/{booking_id}/payments")
    status: str = found["attempts"][0]["status"]
    return status


async def test_a_payment_re_sent_as_a_refund_is_flagged_and_records_nothing(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> None:
    base, owner, _ = consultancy
    _, booking, checkout = await paid_booking(http, consultancy, simulator_url)
    order_id = checkout["order_id"]
    paid_tx = (await _pay_transaction(simulator_url, order_id))[0]
    forged = await post_webhook(http, "refund", webhook_data(order_id, paid_tx, major(15_001)), API_KEY)
    assert (forged.status_code, forged.json()["duplicate"]) == (200, False)  # stored: it verifies

    expected = ["confirmed", "flagged_unverified_refund"]
    assert await until(lambda: outcomes(owner_engine, order_id), expected) == expected
    assert (await money(owner_engine, order_id))[0] == [("capture", 15_001)]
    assert await _attempt_status(http, base, owner, booking["id"]) == "paid"  # the replay changes nothing


@pytest.mark.parametrize("refunded", [4_000, 15_001], ids=["partial", "full"])
async def test_a_refund_re_sent_as_a_payment_is_flagged_and_captures_nothing(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
    refunded: int,
) -> None:
    base, owner, _ = consultancy
    customer, booking, checkout = await paid_booking(http, consultancy, simulator_url)
    order_id = checkout["order_id"]
    await ok(http, owner, "POST", f"{base}/bookings/{booking['id']}/refunds", {"amount_minor": refunded})
    settled = [("capture", 15_001), ("refund", refunded)]
    assert await until(lambda: _ledger(owner_engine, order_id), settled) == settled

    refund_tx = await _refund_transaction(owner_engine, order_id)
    forged = await post_webhook(http, "pay", webhook_data(order_id, refund_tx, major(refunded)), API_KEY)
    assert (forged.status_code, forged.json()["duplicate"]) == (200, False)

    expected = ["confirmed", "refund_recorded", "flagged_refund_as_pay"]
    assert await until(lambda: outcomes(owner_engine, order_id), expected) == expected
    assert await _ledger(owner_engine, order_id) == settled
    # A full refund withdrew the booking (nothing paid is left); the forged payment did not
    # bring it back. A partial one leaves it standing.
    standing = "cancelled" if refunded == 15_001 else "confirmed"
    assert await booking_status(http, base, customer, booking["id"]) == standing
    assert await _attempt_status(http, base, owner, booking["id"]) == "paid"


async def test_a_refund_made_at_the_gateway_is_verified_there_and_recorded(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> None:
    """No intent of ours accounts for it (e.g. refunded from Kashier's dashboard): the
    worker finds it in the order lookup, then records it."""
    _, _, checkout = await paid_booking(http, consultancy, simulator_url)
    order_id = checkout["order_id"]
    config = KashierConfig.create(
        mid=MID,
        api_key=API_KEY,
        secret_key=SECRET_KEY,
        hpp_url=simulator_url,
        api_url=simulator_url,
        fep_url=simulator_url,
    )
    async with KashierClient(config) as kashier:
        assert isinstance(await kashier.refund(order_id, 2_500, "EGP"), RefundAccepted)

    expected = ["confirmed", "refund_recorded"]
    assert await until(lambda: outcomes(owner_engine, order_id), expected) == expected
    assert await _ledger(owner_engine, order_id) == [("capture", 15_001), ("refund", 2_500)]


async def _ledger(engine: AsyncEngine, order_id: str) -> list[tuple[str, int]]:
    return sorted((await money(engine, order_id))[0])


async def _pay_transaction(simulator_url: str, order_id: str) -> list[str]:
    async with httpx.AsyncClient() as sim:
        found = await sim.get(
            f"{simulator_url}/payments/orders/{order_id}", headers={"Authorization": SECRET_KEY}
        )
    return [t["transactionId"] for t in found.json()["response"]["transactions"] if t["operation"] == "pay"]


async def _payments(http: httpx.AsyncClient, base: str, who: Account, booking_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await ok(http, who, "GET", f"{base}/bookings/{booking_id}/payments")
    return found


async def _refund_statuses(http: httpx.AsyncClient, base: str, who: Account, booking_id: str) -> list[str]:
    return [r["status"] for r in (await _payments(http, base, who, booking_id))["refunds"]]


async def test_a_refund_in_another_currency_is_flagged_and_not_recorded(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> None:
    base, owner, _ = consultancy
    _, booking, checkout = await paid_booking(http, consultancy, simulator_url)
    order_id = checkout["order_id"]
    await set_faults(simulator_url, order_id, drop=True)  # Kashier's own refund webhook never comes
    await ok(http, owner, "POST", f"{base}/bookings/{booking['id']}/refunds", {"amount_minor": 4_000})
    accepted = await until(lambda: _refund_statuses(http, base, owner, booking["id"]), ["accepted"])
    assert accepted == ["accepted"]

    refund_tx = await _refund_transaction(owner_engine, order_id)
    data = webhook_data(order_id, refund_tx, major(4_000), currency="USD")
    assert (await post_webhook(http, "refund", data, API_KEY)).status_code == 200

    expected = ["confirmed", "flagged_refund"]
    assert await until(lambda: outcomes(owner_engine, order_id), expected) == expected
    found = await _payments(http, base, owner, booking["id"])
    assert (found["captured_minor"], found["refunded_minor"]) == (15_001, 0)
    assert found["attempts"][0]["status"] == "flagged"
    assert "USD" in found["attempts"][0]["review_reason"]
    assert [r["status"] for r in found["refunds"]] == ["accepted"]  # not settled by it


async def test_a_refund_beyond_the_capture_is_flagged_and_not_recorded(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> None:
    base, owner, _ = consultancy
    _, booking, checkout = await paid_booking(http, consultancy, simulator_url)
    order_id = checkout["order_id"]
    await ok(http, owner, "POST", f"{base}/bookings/{booking['id']}/refunds", {"amount_minor": 10_000})
    assert await until(lambda: _refund_statuses(http, base, owner, booking["id"]), ["settled"]) == ["settled"]
    # As if Kashier had accepted a second refund it could not make: 10,000 + 9,000 > 15,001.
    await _accepted_intent(owner_engine, order_id, "TX-beyond-the-capture", 9_000)

    data = webhook_data(order_id, "TX-beyond-the-capture", major(9_000))
    assert (await post_webhook(http, "refund", data, API_KEY)).status_code == 200

    expected = ["confirmed", "refund_recorded", "flagged_refund"]
    assert await until(lambda: outcomes(owner_engine, order_id), expected) == expected
    found = await _payments(http, base, owner, booking["id"])
    assert (found["captured_minor"], found["refunded_minor"]) == (15_001, 10_000)
    assert found["attempts"][0]["status"] == "flagged"
    assert "19000, above the 15001 captured" in found["attempts"][0]["review_reason"]


async def _accepted_intent(
    engine: AsyncEngine, order_id: str, transaction_id: str, amount_minor: int
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO refund_intent (business_id, id, booking_id, attempt_id, amount_minor, currency,"
                " reason, status, gateway_transaction_id)"
                " SELECT business_id, gen_random_uuid(), booking_id, id, :amount, currency, 'test',"
                " 'accepted', :tx FROM payment_attempt WHERE order_id = :o"
            ),
            {"o": order_id, "tx": transaction_id, "amount": amount_minor},
        )
