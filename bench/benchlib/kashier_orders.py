"""Kashier's side of the webhook benchmarks (bench/webhooks.py, bench/intake.py): the keys
the API, the workers and the simulator share, a webhook's body as Kashier sends it, and a
consultant business seeded by SQL with one held booking and payment attempt per order."""

from __future__ import annotations

import contextlib
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.payments.kashier.client import major_number

from benchlib.processes import Server

API_KEY = "bench-payment-api-key"
SECRET_KEY = "bench$secret$key"
MID = "MID-BENCH-001"
PRICE = 20_000  # piasters per order
SIGNED_KEYS = ["amount", "currency", "merchantOrderId", "status", "transactionId", "method", "kashierOrderId"]
WEBHOOK_PATH = "/v1/webhooks/kashier"


def webhook(
    order_id: str, kashier_order: str, event: str, transaction_id: str, amount_minor: int
) -> dict[str, Any]:
    data = {
        "merchantOrderId": order_id,
        "kashierOrderId": kashier_order,
        "transactionId": transaction_id,
        "status": "SUCCESS",
        "method": "card",
        "amount": major_number(amount_minor, "EGP"),
        "currency": "EGP",
        "signatureKeys": SIGNED_KEYS,
    }
    return {"event": event, "data": data}


async def seed(engine: AsyncEngine, orders: list[str]) -> None:
    """A business, a customer and one held booking with a payment attempt per order."""
    business, customer, service, staff = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    start = datetime.now(UTC) + timedelta(days=3)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO app_user (id, email, password_hash, full_name, is_platform_admin, created_at,"
                " updated_at) VALUES (:u, :e, 'x', 'Bench', false, now(), now())"
            ),
            {"u": customer, "e": f"bench-{customer.hex[:8]}@example.com"},
        )
        await conn.execute(
            text(
                "INSERT INTO business (id, name, slug, business_type_key, time_zone, currency,"
                " rule_overrides, created_at, updated_at)"
                " VALUES (:b, 'Bench', :s, 'consultant', 'Africa/Cairo', 'EGP', '{}', now(), now())"
            ),
            {"b": business, "s": f"bench-{business.hex[:8]}"},
        )
        await conn.execute(
            text(
                "INSERT INTO service (business_id, id, name, description, duration_options_minutes,"
                " price_minor, currency, capacity, required_resource_kinds, active, payment_overrides,"
                " created_at, updated_at)"
                " VALUES (:b, :s, 'Session', '', '{60}', :p, 'EGP', 1, '{}', true, '{}', now(), now())"
            ),
            {"b": business, "s": service, "p": PRICE},
        )
        await conn.execute(
            text(
                "INSERT INTO staff_member (business_id, id, display_name, active, created_at, updated_at)"
                " VALUES (:b, :s, 'Advisor', true, now(), now())"
            ),
            {"b": business, "s": staff},
        )
        bookings = [
            {
                "b": business,
                "id": uuid.uuid4(),
                "c": customer,
                "sv": service,
                "st": staff,
                "s": start + timedelta(hours=i),
                "e": start + timedelta(hours=i, minutes=60),
                "h": start,
                "o": order,
            }
            for i, order in enumerate(orders)
        ]
        await conn.execute(
            text(
                "INSERT INTO booking (business_id, id, customer_id, service_id, staff_id, status,"
                " starts_at, ends_at, hold_expires_at, payment_method, price_minor, deposit_minor,"
                " currency, extra_fields, version, created_at, updated_at) VALUES (:b, :id, :c, :sv,"
                " :st, 'held', :s, :e, :h, 'card', 20000, 20000, 'EGP', '{}', 1, now(), now())"
            ),
            bookings,
        )
        await conn.execute(
            text(
                "INSERT INTO payment_attempt (business_id, id, booking_id, order_id, method, amount_minor,"
                " currency, status, purpose, version, created_at, updated_at) VALUES (:b, gen_random_uuid(),"
                " :id, :o, 'card', 20000, 'EGP', 'started', 'hold', 1, now(), now())"
            ),
            bookings,
        )
        await conn.execute(
            text("INSERT INTO payment_order (order_id, business_id) VALUES (:o, :b)"), bookings
        )


def kashier_env(sim_url: str) -> dict[str, str]:
    """The API, the workers and the simulator share these keys; Kashier is the simulator."""
    return {
        "BOOKLNK_KASHIER_MID": MID,
        "BOOKLNK_KASHIER_API_KEY": API_KEY,
        "BOOKLNK_KASHIER_SECRET_KEY": SECRET_KEY,
        "BOOKLNK_KASHIER_HPP_URL": sim_url,
        "BOOKLNK_KASHIER_API_URL": sim_url,
        "BOOKLNK_KASHIER_FEP_URL": sim_url,
    }


def wait_simulator(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited ({server.process.returncode}):\n{server.log_tail()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.base_url}/__sim/faults", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"{server.name} not ready in {timeout:.0f}s:\n{server.log_tail()}")
