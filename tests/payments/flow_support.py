"""The live stack's side of the payment tests: booking, paying and auditing over HTTP."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from kashier_support import API_KEY, MID, SECRET_KEY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.db.database import Database
from booklnk.payments import reconciliation
from booklnk.payments.kashier.client import KashierClient, major_number
from booklnk.payments.kashier.config import KashierConfig
from booklnk.payments.kashier.signing import webhook_signature
from race_support import server_env
from support import Account, sign_up

SIGNED = ["amount", "currency", "merchantOrderId", "method", "status", "transactionId"]

APPLY_SECONDS = 20
CAIRO = ZoneInfo("Africa/Cairo")  # the businesses' default zone


async def ok(http: httpx.AsyncClient, who: Account, method: str, path: str, body: Any = None) -> Any:
    response = await http.request(method, path, headers=who.headers, json=body)
    assert response.status_code in (200, 201), f"{path}: {response.status_code} {response.text}"
    return response.json()


slots = iter(range(1000))


async def held_booking(
    http: httpx.AsyncClient, consultancy: tuple[str, Account, str], method: str = "card"
) -> tuple[Account, dict[str, Any]]:
    base, _, service_id = consultancy
    customer = await sign_up(http, "customer")
    start = datetime.combine(datetime.now(UTC).date() + timedelta(days=2), datetime.min.time(), UTC)
    start += timedelta(hours=2 * next(slots))  # apart by more than the buffers
    body = {
        "service_id": service_id,
        "starts_at": start.isoformat(),
        "payment_method": method,
        "extra_fields": {"topic": "Money"},
    }
    booking = await ok(http, customer, "POST", f"{base}/bookings", body)
    assert booking["status"] == "held"
    return customer, booking


async def start_checkout(
    http: httpx.AsyncClient, base: str, customer: Account, booking: dict[str, Any], method: str = "card"
) -> dict[str, Any]:
    started: dict[str, Any] = await ok(
        http, customer, "POST", f"{base}/bookings/{booking['id']}/payments", {"method": method}
    )
    return started


async def pay(simulator_url: str, checkout: dict[str, Any], **details: str) -> dict[str, Any]:
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


async def until(probe: Any, expected: Any) -> Any:
    """Poll until the worker has applied what the webhook said (or time runs out)."""
    deadline = time.monotonic() + APPLY_SECONDS
    while True:
        value = await probe()
        if value == expected or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.1)


async def booking_status(http: httpx.AsyncClient, base: str, who: Account, booking_id: str) -> str:
    status: str = (await ok(http, who, "GET", f"{base}/bookings/{booking_id}"))["status"]
    return status


async def money(engine: AsyncEngine, order_id: str) -> tuple[list[tuple[str, int]], int, list[str]]:
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


async def paid_booking(
    http: httpx.AsyncClient, consultancy: tuple[str, Account, str], simulator_url: str
) -> tuple[Account, dict[str, Any], dict[str, Any]]:
    customer, booking = await held_booking(http, consultancy)
    checkout = await start_checkout(http, consultancy[0], customer, booking)
    await pay(simulator_url, checkout, **CARD)
    status = await until(lambda: booking_status(http, consultancy[0], customer, booking["id"]), "confirmed")
    assert status == "confirmed"
    return customer, booking, checkout


def reconcile_cli(database_url: str, kashier_env: dict[str, str], day: str) -> str:
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


async def set_faults(simulator_url: str, order_id: str, **faults: Any) -> None:
    """Misbehaviour for one order's webhooks and lookups (the simulator's admin API)."""
    async with httpx.AsyncClient() as sim:
        response = await sim.post(
            f"{simulator_url}/__sim/faults", json={"merchantOrderId": order_id, **faults}
        )
        assert response.status_code == 200, response.text


def webhook_data(
    order_id: str, transaction_id: str, amount: Any, *, status: str = "SUCCESS", **extra: Any
) -> dict[str, Any]:
    """A webhook's `data` as Kashier would send it (amount in major units, as given)."""
    return {
        "merchantOrderId": order_id,
        "kashierOrderId": f"k-{uuid.uuid4().hex[:8]}",
        "transactionId": transaction_id,
        "status": status,
        "method": "card",
        "amount": amount,
        "currency": "EGP",
        "signatureKeys": SIGNED,
        **extra,
    }


def major(amount_minor: int) -> int | float:
    return major_number(amount_minor, "EGP")


async def post_webhook(
    http: httpx.AsyncClient, event: str, data: dict[str, Any], api_key: str
) -> httpx.Response:
    """POST a webhook signed with `api_key` (Kashier's signature covers `data` only)."""
    body = json.dumps({"event": event, "data": data})
    headers = {"content-type": "application/json", "x-kashier-signature": webhook_signature(api_key, data)}
    return await http.post("/v1/webhooks/kashier", content=body, headers=headers)


async def outcomes(engine: AsyncEngine, order_id: str) -> list[str]:
    return (await money(engine, order_id))[2]


async def open_consultancy(http: httpx.AsyncClient) -> tuple[str, Account, str]:
    """A consultant (50% deposit, card or Fawry) open every day, all day: its base path,
    its owner and its service."""
    owner = await sign_up(http, "consultant")
    slug = f"pay-{uuid.uuid4().hex[:8]}"
    business = await ok(
        http, owner, "POST", "/v1/businesses", {"name": "Pay", "slug": slug, "business_type": "consultant"}
    )
    base = f"/v1/businesses/{business['id']}"
    staff = await ok(http, owner, "POST", f"{base}/staff", {"display_name": "Advisor"})
    week = {"hours": [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)], "breaks": []}
    await ok(http, owner, "PUT", f"{base}/staff/{staff['id']}/weekly-schedule", week)
    service = await ok(
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


async def reconcile_here(
    db: Database, simulator_url: str, base: str, day: date | None = None
) -> reconciliation.RunResult:
    """The reconciliation of `day` (today) of the business at `base`, in this process, with
    a client that gives up after a second (the CLI's waits 15 s)."""
    config = KashierConfig.create(
        mid=MID,
        api_key=API_KEY,
        secret_key=SECRET_KEY,
        hpp_url=simulator_url,
        api_url=simulator_url,
        fep_url=simulator_url,
        timeout_seconds=1.0,
    )
    business_id = uuid.UUID(base.rsplit("/", 1)[1])
    async with KashierClient(config) as kashier:
        result = await reconciliation.reconcile(
            db, kashier, business_id, day or datetime.now(CAIRO).date(), now=datetime.now(UTC)
        )
    assert result is not None
    return result
