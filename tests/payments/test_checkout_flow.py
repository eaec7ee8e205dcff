"""Paying for a held booking end to end, over real HTTP: our API (two uvicorn processes)
hands out the hosted-page URL, the Kashier simulator takes the payment and sends its
signed webhook to our API, and `booklnk worker` processes apply it. The database is
audited afterwards: one delivery row per distinct event, one ledger row per capture."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from kashier_support import API_KEY, MID, SECRET_KEY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from race_support import LiveServer, running_job_workers, running_server, server_env
from support import Account, sign_up

APPLY_SECONDS = 20
CAIRO = ZoneInfo("Africa/Cairo")  # the businesses' default zone


@pytest.fixture(scope="module")
def kashier_env(simulator_url: str) -> dict[str, str]:
    return {
        "BOOKLNK_KASHIER_MID": MID,
        "BOOKLNK_KASHIER_API_KEY": API_KEY,
        "BOOKLNK_KASHIER_SECRET_KEY": SECRET_KEY,
        "BOOKLNK_KASHIER_HPP_URL": simulator_url,
        "BOOKLNK_KASHIER_API_URL": simulator_url,
        "BOOKLNK_KASHIER_FEP_URL": simulator_url,
    }


@pytest.fixture(scope="module")
def api(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, kashier_env: dict[str, str]
) -> Iterator[LiveServer]:
    with (
        running_server(database_url, tmp_path_factory, kashier_env) as server,
        running_job_workers(database_url, tmp_path_factory.mktemp("workers"), 2, kashier_env),
    ):
        yield server


@pytest.fixture(scope="module")
async def http(api: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as client:
        yield client


async def _ok(http: httpx.AsyncClient, who: Account, method: str, path: str, body: Any = None) -> Any:
    response = await http.request(method, path, headers=who.headers, json=body)
    assert response.status_code in (200, 201), f"{path}: {response.status_code} {response.text}"
    return response.json()


@pytest.fixture(scope="module")
async def consultancy(http: httpx.AsyncClient) -> tuple[str, Account, str]:
    """A consultant (50% deposit, card or Fawry) open every day, all day."""
    owner = await sign_up(http, "consultant")
    slug = f"pay-{uuid.uuid4().hex[:8]}"
    business = await _ok(
        http, owner, "POST", "/v1/businesses", {"name": "Pay", "slug": slug, "business_type": "consultant"}
    )
    base = f"/v1/businesses/{business['id']}"
    staff = await _ok(http, owner, "POST", f"{base}/staff", {"display_name": "Advisor"})
    week = {"hours": [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)], "breaks": []}
    await _ok(http, owner, "PUT", f"{base}/staff/{staff['id']}/weekly-schedule", week)
    service = await _ok(
        http,
        owner,
        "POST",
        f"{base}/services",
        {
            "name": "Session",
            "price_minor": 30_001,
            "duration_options_minutes": [60],
            "staff_ids": [staff["id"]],
        },
    )
    return base, owner, service["id"]


_slots = iter(range(1000))


async def _held_booking(
    http: httpx.AsyncClient, consultancy: tuple[str, Account, str], method: str = "card"
) -> tuple[Account, dict[str, Any]]:
    base, _, service_id = consultancy
    customer = await sign_up(http, "customer")
    start = datetime.combine(datetime.now(UTC).date() + timedelta(days=2), datetime.min.time(), UTC)
    start += timedelta(hours=2 * next(_slots))  # apart by more than the buffers
    body = {
        "service_id": service_id,
        "starts_at": start.isoformat(),
        "payment_method": method,
        "extra_fields": {"topic": "Money"},
    }
    booking = await _ok(http, customer, "POST", f"{base}/bookings", body)
    assert booking["status"] == "held"
    return customer, booking


async def _checkout(
    http: httpx.AsyncClient, base: str, customer: Account, booking: dict[str, Any], method: str = "card"
) -> dict[str, Any]:
    started: dict[str, Any] = await _ok(
        http, customer, "POST", f"{base}/bookings/{booking['id']}/payments", {"method": method}
    )
    return started


async def _pay(simulator_url: str, checkout: dict[str, Any], **details: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10) as sim:
        opened = await sim.get(checkout["url"])
        assert opened.status_code == 200, opened.text
        paid = await sim.post(
            f"{simulator_url}/__sim/pay", json={"merchantOrderId": checkout["order_id"], **details}
        )
        assert paid.status_code == 200, paid.text
        result: dict[str, Any] = paid.json()
        return result


CARD = {"method": "card", "cardNumber": "5123450000000008", "expiry": "12/39", "cvv": "100"}


async def _until(probe: Any, expected: Any) -> Any:
    """Poll until the worker has applied what the webhook said (or time runs out)."""
    deadline = time.monotonic() + APPLY_SECONDS
    while True:
        value = await probe()
        if value == expected or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.1)


async def _booking_status(http: httpx.AsyncClient, base: str, who: Account, booking_id: str) -> str:
    status: str = (await _ok(http, who, "GET", f"{base}/bookings/{booking_id}"))["status"]
    return status


async def _money(engine: AsyncEngine, order_id: str) -> tuple[list[tuple[str, int]], int, list[str]]:
    async with engine.connect() as conn:
        ledger = await conn.execute(
            text(
                "SELECT l.kind::text, l.amount_minor FROM ledger_entry l"
                " JOIN payment_attempt a ON a.business_id = l.business_id AND a.id = l.attempt_id"
                " WHERE a.order_id = :o ORDER BY l.created_at"
            ),
            {"o": order_id},
        )
        deliveries = await conn.scalar(
            text("SELECT count(*) FROM webhook_delivery WHERE merchant_order_id = :o"), {"o": order_id}
        )
        outcomes = await conn.execute(
            text("SELECT outcome FROM webhook_delivery WHERE merchant_order_id = :o ORDER BY id"),
            {"o": order_id},
        )
        return [tuple(r) for r in ledger], int(deliveries or 0), [r[0] for r in outcomes]


async def test_a_card_payment_confirms_the_booking_and_records_the_deposit(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> None:
    base = consultancy[0]
    customer, booking = await _held_booking(http, consultancy)
    checkout = await _checkout(http, base, customer, booking)
    assert checkout["amount_minor"] == 15_001  # 50% of 300.01 EGP, rounded up to a piaster
    assert checkout["url"].startswith(simulator_url)
    paid = await _pay(simulator_url, checkout, **CARD)
    assert paid["status"] == "SUCCESS"

    status = await _until(lambda: _booking_status(http, base, customer, booking["id"]), "confirmed")
    assert status == "confirmed"
    ledger, deliveries, outcomes = await _money(owner_engine, checkout["order_id"])
    assert (ledger, deliveries, outcomes) == ([("capture", 15_001)], 1, ["confirmed"])

    # The browser comes back: the signed redirect shows the booking, changes nothing.
    async with httpx.AsyncClient() as browser:
        back = await browser.get(paid["redirectUrl"].replace("http://", "http://", 1))
    assert back.status_code == 200, back.text
    assert (back.json()["booking_status"], back.json()["attempt_status"]) == ("confirmed", "paid")
    again = await http.post(
        f"{base}/bookings/{booking['id']}/payments", headers=customer.headers, json={"method": "card"}
    )
    assert (again.status_code, again.json()["code"]) == (409, "booking_not_payable")


async def test_duplicated_webhooks_are_stored_and_applied_once(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> None:
    base = consultancy[0]
    customer, booking = await _held_booking(http, consultancy)
    checkout = await _checkout(http, base, customer, booking)
    async with httpx.AsyncClient() as sim:
        faults = {"merchantOrderId": checkout["order_id"], "duplicates": 3}
        assert (await sim.post(f"{simulator_url}/__sim/faults", json=faults)).status_code == 200
    await _pay(simulator_url, checkout, **CARD)
    assert (
        await _until(lambda: _booking_status(http, base, customer, booking["id"]), "confirmed") == "confirmed"
    )
    await asyncio.sleep(1)  # room for a wrong second application to show
    ledger, deliveries, _ = await _money(owner_engine, checkout["order_id"])
    assert (ledger, deliveries) == ([("capture", 15_001)], 1)


async def test_a_forged_webhook_changes_nothing(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> None:
    base = consultancy[0]
    customer, booking = await _held_booking(http, consultancy)
    checkout = await _checkout(http, base, customer, booking)
    async with httpx.AsyncClient() as sim:
        faults = {"merchantOrderId": checkout["order_id"], "wrong_signature": True}
        assert (await sim.post(f"{simulator_url}/__sim/faults", json=faults)).status_code == 200
    await _pay(simulator_url, checkout, **CARD)
    await asyncio.sleep(2)
    assert await _booking_status(http, base, customer, booking["id"]) == "held"
    assert await _money(owner_engine, checkout["order_id"]) == ([], 0, [])


async def test_a_declined_card_fails_the_attempt_and_keeps_the_hold(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> None:
    base = consultancy[0]
    customer, booking = await _held_booking(http, consultancy)
    checkout = await _checkout(http, base, customer, booking)
    await _pay(simulator_url, checkout, **{**CARD, "expiry": "02/39"})

    async def outcome() -> list[str]:
        return (await _money(owner_engine, checkout["order_id"]))[2]

    assert await _until(outcome, ["pay_failure"]) == ["pay_failure"]
    assert await _booking_status(http, base, customer, booking["id"]) == "held"
    retry = await _checkout(http, base, customer, booking)  # a new attempt, a new order id
    assert retry["order_id"] != checkout["order_id"]


async def test_fawry_pending_extends_the_hold_then_the_cash_confirms(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> None:
    base = consultancy[0]
    customer, booking = await _held_booking(http, consultancy, method="fawry")
    checkout = await _checkout(http, base, customer, booking, method="fawry")
    paid = await _pay(simulator_url, checkout, method="fawry")
    assert paid["status"] == "PENDING"

    async def outcome() -> list[str]:
        return (await _money(owner_engine, checkout["order_id"]))[2]

    assert await _until(outcome, ["hold_extended"]) == ["hold_extended"]
    held = await _ok(http, customer, "GET", f"{base}/bookings/{booking['id']}")
    expires = datetime.fromisoformat(held["hold_expires_at"])
    assert expires > datetime.now(UTC) + timedelta(hours=23)  # the consultant's Fawry hold: 24 h
    async with httpx.AsyncClient() as sim:
        settled = await sim.post(f"{simulator_url}/__sim/orders/{checkout['order_id']}/fawry/paid")
        assert settled.status_code == 200, settled.text
    assert (
        await _until(lambda: _booking_status(http, base, customer, booking["id"]), "confirmed") == "confirmed"
    )
    ledger, _, outcomes = await _money(owner_engine, checkout["order_id"])
    assert (ledger, outcomes) == ([("capture", 15_001)], ["hold_extended", "confirmed"])


async def _paid_booking(
    http: httpx.AsyncClient, consultancy: tuple[str, Account, str], simulator_url: str
) -> tuple[Account, dict[str, Any], dict[str, Any]]:
    customer, booking = await _held_booking(http, consultancy)
    checkout = await _checkout(http, consultancy[0], customer, booking)
    await _pay(simulator_url, checkout, **CARD)
    status = await _until(lambda: _booking_status(http, consultancy[0], customer, booking["id"]), "confirmed")
    assert status == "confirmed"
    return customer, booking, checkout


async def test_cancelling_a_paid_booking_refunds_it_through_kashier(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> None:
    base = consultancy[0]
    customer, booking, checkout = await _paid_booking(http, consultancy, simulator_url)
    cancelled = await _ok(http, customer, "POST", f"{base}/bookings/{booking['id']}/cancel")
    assert cancelled["cancellation"]["refund_minor"] == 15_001

    async def ledger() -> list[tuple[str, int]]:
        return (await _money(owner_engine, checkout["order_id"]))[0]

    expected = [("capture", 15_001), ("refund", 15_001)]
    assert await _until(ledger, expected) == expected
    async with httpx.AsyncClient() as sim:
        order = (
            await sim.get(
                f"{simulator_url}/payments/orders/{checkout['order_id']}",
                headers={"Authorization": SECRET_KEY},
            )
        ).json()["response"]
    assert (order["totalCapturedAmount"], order["totalRefundedAmount"]) == (150.01, 150.01)


async def test_an_owner_refunds_in_parts_never_beyond_the_capture(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> None:
    base, owner, _ = consultancy
    _, booking, checkout = await _paid_booking(http, consultancy, simulator_url)
    path = f"{base}/bookings/{booking['id']}/refunds"
    first = await _ok(http, owner, "POST", path, {"amount_minor": 5_000, "reason": "goodwill"})
    assert first["status"] == "requested"
    too_much = await http.post(path, headers=owner.headers, json={"amount_minor": 10_002})
    assert too_much.status_code == 422
    assert too_much.json()["errors"][0]["rule"] == "exceeds_captured"
    await _ok(http, owner, "POST", path, {"amount_minor": 10_001})

    async def ledger() -> list[tuple[str, int]]:
        return sorted((await _money(owner_engine, checkout["order_id"]))[0])

    expected = sorted([("capture", 15_001), ("refund", 5_000), ("refund", 10_001)])
    assert await _until(ledger, expected) == expected
    nothing_left = await http.post(path, headers=owner.headers, json={"amount_minor": 1})
    assert (nothing_left.status_code, nothing_left.json()["code"]) == (409, "nothing_to_refund")


def _reconcile_cli(database_url: str, kashier_env: dict[str, str], day: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "booklnk.cli", "reconcile", "--date", day],
        env={**server_env(database_url), **kashier_env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


async def test_reconciliation_heals_a_dropped_webhook_and_a_second_run_adds_nothing(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
    database_url: str,
    kashier_env: dict[str, str],
) -> None:
    base, owner, _ = consultancy
    customer, booking = await _held_booking(http, consultancy)
    checkout = await _checkout(http, base, customer, booking)
    async with httpx.AsyncClient() as sim:
        faults = {"merchantOrderId": checkout["order_id"], "drop": True}
        assert (await sim.post(f"{simulator_url}/__sim/faults", json=faults)).status_code == 200
    await _pay(simulator_url, checkout, **CARD)
    await asyncio.sleep(1)
    assert await _booking_status(http, base, customer, booking["id"]) == "held"  # only the gateway knows

    day = datetime.now(CAIRO).date().isoformat()
    first = await asyncio.to_thread(_reconcile_cli, database_url, kashier_env, day)
    assert (
        await _until(lambda: _booking_status(http, base, customer, booking["id"]), "confirmed") == "confirmed"
    )
    ledger, deliveries, outcomes = await _money(owner_engine, checkout["order_id"])
    assert (ledger, deliveries, outcomes) == ([("capture", 15_001)], 1, ["confirmed"])
    second = await asyncio.to_thread(_reconcile_cli, database_url, kashier_env, day)
    # (The forged test's order is healed too: the gateway captured it, we never believed it.)
    assert "0 new mismatches" not in first
    assert "0 new mismatches, 0 healed" in second

    runs = await _ok(http, owner, "GET", f"{base}/reconciliation-runs")
    assert [r["day"] for r in runs] == [day]
    path = f"{base}/reconciliation-runs/{runs[0]['id']}/mismatches"
    found = await _ok(http, owner, "GET", path)
    ours = [(m["kind"], m["healed"]) for m in found if m["order_id"] == checkout["order_id"]]
    assert ours == [("captured_not_recorded", True)]
    as_csv = await http.get(path, headers={**owner.headers, "Accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert f"{checkout['order_id']},captured_not_recorded," in as_csv.text
