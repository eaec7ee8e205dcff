"""Webhook ingestion benchmark: 5,000 signed Kashier webhooks (30% duplicates, 10% of the
orders out of order: a refund before its payment) from concurrent senders against the API
served by two uvicorn processes, applied by two `booklnk worker` processes.

Prints a table (and writes JSON under bench/results/): ingest throughput, acknowledgement
latency p50/p99, the time until every effect is applied, and the exactly-once audit (one
delivery row per distinct event, one ledger row per capture and refund, every order's
booking confirmed).

    python3 -m uv run python bench/webhooks.py [--webhooks 5000] [--senders 64]

Uses DATABASE_URL's server (else the embedded one), in a database of its own, dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from booking import (
    Server,
    admin,
    create_database,
    free_port,
    latency,
    log,
    start_server,
    stop_server,
    wait_ready,
)
from booklnk.bootstrap import database_url
from booklnk.config import Settings
from booklnk.payments.kashier.client import major_number
from booklnk.payments.kashier.signing import webhook_signature

API_KEY = "bench-payment-api-key"
PRICE = 20_000  # piasters per order
REFUND = 5_000
RESULTS_DIR = Path(__file__).resolve().parent / "results"
SIGNED_KEYS = ["amount", "currency", "merchantOrderId", "status", "transactionId", "method", "kashierOrderId"]


@dataclass(frozen=True)
class Plan:
    orders: list[str]
    sends: list[tuple[str, dict[str, Any]]]  # (order id, signed body), in sending order
    distinct: int
    refunds: int


def webhook(order_id: str, event: str, transaction_id: str, amount_minor: int) -> dict[str, Any]:
    data = {
        "merchantOrderId": order_id,
        "kashierOrderId": f"k-{order_id}",
        "transactionId": transaction_id,
        "status": "SUCCESS",
        "method": "card",
        "amount": major_number(amount_minor, "EGP"),
        "currency": "EGP",
        "signatureKeys": SIGNED_KEYS,
    }
    return {"event": event, "data": data}


def plan(total: int, duplicate_share: float, out_of_order_share: float, rng: random.Random) -> Plan:
    """`total` sends: distinct events plus duplicates; a share of the orders get a refund
    that is sent before their payment."""
    distinct = round(total * (1 - duplicate_share))
    # Each out-of-order order brings two events (refund, pay); the others one.
    pairs = round(distinct * out_of_order_share / (1 + out_of_order_share))
    orders = [f"bench-{uuid.uuid4().hex[:16]}" for _ in range(distinct - pairs)]
    events: list[tuple[str, dict[str, Any]]] = []
    for i, order in enumerate(orders):
        pay = webhook(order, "pay", f"tx-pay-{order}", PRICE)
        if i < pairs:
            events.append((order, webhook(order, "refund", f"tx-ref-{order}", REFUND)))
        events.append((order, pay))
    rng.shuffle(events)
    # Keep each order's refund ahead of its payment after the shuffle.
    by_order: dict[str, list[int]] = {}
    for index, (order, _) in enumerate(events):
        by_order.setdefault(order, []).append(index)
    for indexes in by_order.values():
        if len(indexes) == 2:
            first, second = indexes
            a, b = events[first], events[second]
            if a[1]["event"] == "pay":
                events[first], events[second] = b, a
    duplicates = [events[rng.randrange(len(events))] for _ in range(total - len(events))]
    sends = list(events)
    for duplicate in duplicates:  # a duplicate goes out after (or right with) its original
        original = sends.index(duplicate)
        sends.insert(rng.randint(original, len(sends)), duplicate)
    return Plan(orders, sends, len(events), pairs)


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
                " price_minor, currency, capacity, required_resource_kinds, active, created_at, updated_at)"
                " VALUES (:b, :s, 'Session', '', '{60}', :p, 'EGP', 1, '{}', true, now(), now())"
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
                "INSERT INTO booking (business_id, id, customer_id, service_id, staff_id, status, starts_at,"
                " ends_at, hold_expires_at, payment_method, price_minor, currency, extra_fields, version,"
                " created_at, updated_at) VALUES (:b, :id, :c, :sv, :st, 'held', :s, :e, :h, 'card', 20000,"
                " 'EGP', '{}', 1, now(), now())"
            ),
            bookings,
        )
        await conn.execute(
            text(
                "INSERT INTO payment_attempt (business_id, id, booking_id, order_id, method, amount_minor,"
                " currency, status, version, created_at, updated_at)"
                " VALUES (:b, gen_random_uuid(), :id, :o, 'card', 20000, 'EGP', 'started', 1, now(), now())"
            ),
            bookings,
        )
        await conn.execute(
            text("INSERT INTO payment_order (order_id, business_id) VALUES (:o, :b)"), bookings
        )


async def send_all(
    base_url: str, sends: list[tuple[str, dict[str, Any]]], senders: int
) -> tuple[float, list[float], int]:
    """Every webhook, `senders` at a time; returns wall time, ack latencies, non-2xx count."""
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
    for item in sends:
        queue.put_nowait(item)
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=senders, max_keepalive_connections=senders, keepalive_expiry=2)

    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as http:

        async def sender() -> None:
            nonlocal failures
            while not queue.empty():
                _, body = queue.get_nowait()
                payload = json.dumps(body).encode()
                headers = {
                    "content-type": "application/json",
                    "x-kashier-signature": webhook_signature(API_KEY, body["data"]),
                }
                began = time.perf_counter()
                response = await http.post("/v1/webhooks/kashier", content=payload, headers=headers)
                latencies.append(time.perf_counter() - began)
                failures += not response.is_success

        began = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(senders)))
        return time.perf_counter() - began, latencies, failures


async def wait_applied(engine: AsyncEngine, limit_seconds: float = 600) -> float:
    began = time.perf_counter()
    while time.perf_counter() - began < limit_seconds:
        async with engine.connect() as conn:
            left = await conn.scalar(text("SELECT count(*) FROM webhook_delivery WHERE applied_at IS NULL"))
        if left == 0:
            return time.perf_counter() - began
        await asyncio.sleep(0.1)
    raise TimeoutError("effects not applied in time")


async def audit(engine: AsyncEngine, the_plan: Plan) -> dict[str, Any]:
    async with engine.connect() as conn:
        one = (
            await conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM webhook_delivery),"
                    " (SELECT count(*) FROM ledger_entry WHERE kind = 'capture'),"
                    " (SELECT coalesce(sum(amount_minor), 0) FROM ledger_entry WHERE kind = 'capture'),"
                    " (SELECT count(*) FROM ledger_entry WHERE kind = 'refund'),"
                    " (SELECT count(*) FROM booking WHERE status = 'confirmed'),"
                    " (SELECT count(*) FROM (SELECT source FROM ledger_entry GROUP BY business_id, source"
                    "   HAVING count(*) > 1) d)"
                )
            )
        ).one()
    deliveries, captures, captured, refunds, confirmed, doubled = (int(v) for v in one)
    expected = {
        "deliveries": the_plan.distinct,
        "captures": len(the_plan.orders),
        "captured_minor": len(the_plan.orders) * PRICE,
        "refunds": the_plan.refunds,
        "confirmed": len(the_plan.orders),
        "doubled_ledger_sources": 0,
    }
    found = {
        "deliveries": deliveries,
        "captures": captures,
        "captured_minor": captured,
        "refunds": refunds,
        "confirmed": confirmed,
        "doubled_ledger_sources": doubled,
    }
    return {"expected": expected, "found": found, "exactly_once": expected == found}


async def measure(bench_url: str, base_url: str, total: int, senders: int) -> dict[str, Any]:
    rng = random.Random(7)
    the_plan = plan(total, 0.30, 0.10, rng)
    engine = create_async_engine(bench_url)
    try:
        await seed(engine, the_plan.orders)
        log(f"sending {len(the_plan.sends)} webhooks ({the_plan.distinct} distinct) with {senders} senders")
        began = time.perf_counter()
        wall, latencies, failures = await send_all(base_url, the_plan.sends, senders)
        applied = await wait_applied(engine)
        total_to_applied = time.perf_counter() - began
        return {
            "webhooks": len(the_plan.sends),
            "distinct_events": the_plan.distinct,
            "orders": len(the_plan.orders),
            "out_of_order_orders": the_plan.refunds,
            "senders": senders,
            "ingest_seconds": round(wall, 2),
            "ingest_per_second": round(len(the_plan.sends) / wall, 1),
            "ack_latency_ms": latency(latencies),
            "non_2xx": failures,
            "applied_after_ingest_seconds": round(applied, 2),
            "first_send_to_all_applied_seconds": round(total_to_applied, 2),
            "audit": await audit(engine, the_plan),
        }
    finally:
        await engine.dispose()


def markdown(report: dict[str, Any]) -> str:
    ack = report["ack_latency_ms"]
    audit_ = report["audit"]
    rows = [
        ("webhooks sent (distinct events)", f"{report['webhooks']} ({report['distinct_events']})"),
        ("orders (refund before payment)", f"{report['orders']} ({report['out_of_order_orders']})"),
        ("concurrent senders", report["senders"]),
        ("ingest throughput", f"{report['ingest_per_second']} webhooks/s"),
        ("ack latency p50 / p99", f"{ack['p50_ms']:.1f} / {ack['p99_ms']:.1f} ms"),
        ("non-2xx answers", report["non_2xx"]),
        ("all effects applied, from the first send", f"{report['first_send_to_all_applied_seconds']} s"),
        ("exactly-once audit", "pass" if audit_["exactly_once"] else f"FAIL {audit_}"),
    ]
    return "\n".join(["| measure | value |", "|---|---:|", *(f"| {k} | {v} |" for k, v in rows)])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--webhooks", type=int, default=5000)
    parser.add_argument("--senders", type=int, default=64)
    args = parser.parse_args()
    settings = Settings()
    server_url = database_url(settings)
    name = f"booklnk_bench_{uuid.uuid4().hex[:10]}"
    bench_url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    servers: list[Server] = []
    try:
        asyncio.run(create_database(server_url, name, bench_url))
        libpq = make_url(bench_url).set(drivername="postgresql").render_as_string(hide_password=False)
        env = {**os.environ, "DATABASE_URL": libpq, "BOOKLNK_KASHIER_API_KEY": API_KEY}
        with tempfile.TemporaryDirectory(prefix="booklnk-bench-") as logs:
            port = free_port()
            api = [sys.executable, "-m", "booklnk.cli", "serve", "--workers", "2", "--port", str(port)]
            servers.append(start_server("api", api, env, Path(logs), port))
            worker = [sys.executable, "-m", "booklnk.cli", "worker", "--concurrency", "8"]
            for i in range(2):
                servers.append(start_server(f"worker-{i}", worker, env, Path(logs), port))
            wait_ready(servers[0])
            report = asyncio.run(measure(bench_url, servers[0].base_url, args.webhooks, args.senders))
    finally:
        for server in servers:
            stop_server(server)
        asyncio.run(admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    report["timestamp"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    report["load_average"] = os.getloadavg()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"webhooks-{report['timestamp'].replace(':', '')}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(markdown(report))
    print(f"\nJSON: {path}")


if __name__ == "__main__":
    main()
