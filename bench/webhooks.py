"""Webhook ingestion benchmark: 5,000 signed Kashier webhooks (30% duplicates, 10% of the
orders out of order: a refund before its payment) from concurrent senders against the API
served by two uvicorn processes, applied by two `booklnk worker` processes.

Every order is first paid (and, for the out-of-order ones, refunded) at a local Kashier
simulator, so the webhooks carry the gateway's own transaction ids: a refund that no
intent of ours accounts for is checked in the order lookup before it is recorded, as in
production. The simulator itself sends no webhook (the orders carry no serverWebhook).

Prints a table (and writes JSON under bench/results/): ingest throughput, acknowledgement
latency p50/p99, the time until every effect is applied, and the exactly-once audit:
exactly one acknowledgement per distinct event said "new", one delivery row per distinct
event and each applied once with the outcome it should have, ledger rows and sums equal to
what was sent (captures and refunds), no ledger source twice, every order confirmed.

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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from booklnk.payments.kashier.client import KashierClient, RefundAccepted, hosted_page_url
from booklnk.payments.kashier.config import KashierConfig
from booklnk.payments.kashier.signing import webhook_signature

from benchlib.database import fresh_database
from benchlib.kashier_orders import (
    API_KEY,
    MID,
    PRICE,
    SECRET_KEY,
    WEBHOOK_PATH,
    kashier_env,
    seed,
    wait_simulator,
    webhook,
)
from benchlib.output import RESULTS_DIR, log
from benchlib.processes import (
    Server,
    free_port,
    start_messages_sim,
    start_server,
    start_worker,
    wait_ready,
)
from benchlib.stats import latency

SETUP_CONCURRENCY = 32
REFUND = 5_000


Event = tuple[str, str]  # (order id, "pay" | "refund")


@dataclass(frozen=True)
class Plan:
    orders: list[str]
    sends: list[Event]  # in sending order, duplicates included
    distinct: int
    refunds: list[str]  # the orders refunded before their payment is sent


def plan(total: int, duplicate_share: float, out_of_order_share: float, rng: random.Random) -> Plan:
    """`total` sends: distinct events plus duplicates; a share of the orders get a refund
    that is sent before their payment."""
    distinct = round(total * (1 - duplicate_share))
    # Each out-of-order order brings two events (refund, pay); the others one.
    pairs = round(distinct * out_of_order_share / (1 + out_of_order_share))
    orders = [f"bench-{uuid.uuid4().hex[:16]}" for _ in range(distinct - pairs)]
    events: list[Event] = []
    for i, order in enumerate(orders):
        if i < pairs:
            events.append((order, "refund"))
        events.append((order, "pay"))
    rng.shuffle(events)
    # Keep each order's refund ahead of its payment after the shuffle.
    by_order: dict[str, list[int]] = {}
    for index, (order, _) in enumerate(events):
        by_order.setdefault(order, []).append(index)
    for indexes in by_order.values():
        if len(indexes) == 2:
            first, second = indexes
            if events[first][1] == "pay":
                events[first], events[second] = events[second], events[first]
    duplicates = [events[rng.randrange(len(events))] for _ in range(total - len(events))]
    sends = list(events)
    for duplicate in duplicates:  # a duplicate goes out after (or right with) its original
        original = sends.index(duplicate)
        sends.insert(rng.randint(original, len(sends)), duplicate)
    return Plan(orders, sends, len(events), orders[:pairs])


def kashier_config(sim_url: str) -> KashierConfig:
    return KashierConfig.create(
        mid=MID, api_key=API_KEY, secret_key=SECRET_KEY, hpp_url=sim_url, api_url=sim_url, fep_url=sim_url
    )


async def at_the_gateway(sim_url: str, the_plan: Plan) -> dict[Event, dict[str, Any]]:
    """Pay every order at the simulator (refund the out-of-order ones) and return each
    event's signed webhook body, with the gateway's transaction ids."""
    config = kashier_config(sim_url)
    refunded = set(the_plan.refunds)
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)
    bodies: dict[Event, dict[str, Any]] = {}
    limits = httpx.Limits(max_connections=SETUP_CONCURRENCY)
    async with (
        httpx.AsyncClient(timeout=60, limits=limits) as http,
        KashierClient(config, http=http) as kashier,
    ):

        async def one(order: str) -> None:
            async with gate:
                # No serverWebhook: the simulator keeps its webhooks; this script sends them.
                url = hosted_page_url(config, order, PRICE, "EGP", ["card"], "http://127.0.0.1/return", "")
                assert (await http.get(url)).status_code == 200
                paid = await http.post(f"{sim_url}/__sim/pay", json={"merchantOrderId": order})
                assert paid.status_code == 200, paid.text
                kashier_order = paid.json()["kashierOrderId"]
                bodies[(order, "pay")] = webhook(
                    order, kashier_order, "pay", paid.json()["transactionId"], PRICE
                )
                if order in refunded:
                    refund = await kashier.refund(order, REFUND, "EGP")
                    assert isinstance(refund, RefundAccepted), refund
                    bodies[(order, "refund")] = webhook(
                        order, kashier_order, "refund", refund.transaction_id, REFUND
                    )

        await asyncio.gather(*(one(order) for order in the_plan.orders))
    return bodies


@dataclass
class Sent:
    wall: float
    latencies: list[float]
    non_2xx: int
    acknowledged_new: int  # answers saying "stored now", not "duplicate"


async def send_all(base_url: str, bodies: list[dict[str, Any]], senders: int) -> Sent:
    """Every webhook, `senders` at a time."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)
    sent = Sent(0.0, [], 0, 0)
    limits = httpx.Limits(max_connections=senders, max_keepalive_connections=senders, keepalive_expiry=2)

    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as http:

        async def sender() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                payload = json.dumps(body).encode()
                headers = {
                    "content-type": "application/json",
                    "x-kashier-signature": webhook_signature(API_KEY, body["data"]),
                }
                began = time.perf_counter()
                response = await http.post(WEBHOOK_PATH, content=payload, headers=headers)
                sent.latencies.append(time.perf_counter() - began)
                sent.non_2xx += not response.is_success
                sent.acknowledged_new += response.is_success and response.json()["duplicate"] is False

        began = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(senders)))
        sent.wall = time.perf_counter() - began
        return sent


async def wait_applied(engine: AsyncEngine, limit_seconds: float = 600) -> float:
    began = time.perf_counter()
    while time.perf_counter() - began < limit_seconds:
        async with engine.connect() as conn:
            left = await conn.scalar(text("SELECT count(*) FROM webhook_delivery WHERE applied_at IS NULL"))
        if left == 0:
            return time.perf_counter() - began
        await asyncio.sleep(0.1)
    raise TimeoutError("effects not applied in time")


AUDIT_SQL = text(
    """
    SELECT
      (SELECT count(*) FROM webhook_delivery),
      (SELECT count(DISTINCT (event, transaction_id, status, amount_minor)) FROM webhook_delivery),
      (SELECT count(*) FROM webhook_delivery WHERE applied_at IS NOT NULL),
      (SELECT count(*) FROM webhook_delivery WHERE event = 'pay' AND outcome = 'confirmed'),
      (SELECT count(*) FROM webhook_delivery WHERE event = 'refund' AND outcome = 'refund_recorded'),
      (SELECT count(*) FROM ledger_entry WHERE kind = 'capture'),
      (SELECT coalesce(sum(amount_minor), 0) FROM ledger_entry WHERE kind = 'capture'),
      (SELECT count(*) FROM ledger_entry WHERE kind = 'refund'),
      (SELECT coalesce(sum(amount_minor), 0) FROM ledger_entry WHERE kind = 'refund'),
      (SELECT count(*) FROM ledger_entry),
      (SELECT count(*) FROM (SELECT source FROM ledger_entry GROUP BY business_id, source
                             HAVING count(*) > 1) d),
      (SELECT count(*) FROM webhook_delivery d
         LEFT JOIN (SELECT source, count(*) AS n FROM ledger_entry GROUP BY source) l
           ON l.source = 'kashier:' || d.event || ':' || d.transaction_id || ':' || d.amount_minor
         WHERE coalesce(l.n, 0) <> 1),
      (SELECT count(*) FROM booking WHERE status = 'confirmed')
    """
)
AUDITED = (
    "deliveries",
    "distinct_delivery_keys",
    "applied_deliveries",
    "pay_confirmed",
    "refund_recorded",
    "captures",
    "captured_minor",
    "refunds",
    "refunded_minor",
    "ledger_rows",
    "doubled_ledger_sources",
    "deliveries_without_exactly_one_ledger_row",
    "confirmed_bookings",
)


async def audit(engine: AsyncEngine, the_plan: Plan, sent: Sent) -> dict[str, Any]:
    """What the database holds against what was sent: each distinct event acknowledged as
    new once, stored once, applied once with its outcome, one ledger row each."""
    async with engine.connect() as conn:
        row = (await conn.execute(AUDIT_SQL)).one()
        outcomes: dict[str, int] = dict(
            (
                await conn.execute(
                    text("SELECT coalesce(outcome, 'unapplied'), count(*) FROM webhook_delivery GROUP BY 1")
                )
            ).all()
        )
    orders, refunds = len(the_plan.orders), len(the_plan.refunds)
    found = {
        "acknowledged_new": sent.acknowledged_new,
        **dict(zip(AUDITED, (int(v) for v in row), strict=True)),
    }
    expected = {
        "acknowledged_new": the_plan.distinct,
        "deliveries": the_plan.distinct,
        "distinct_delivery_keys": the_plan.distinct,
        "applied_deliveries": the_plan.distinct,
        "pay_confirmed": orders,
        "refund_recorded": refunds,
        "captures": orders,
        "captured_minor": orders * PRICE,
        "refunds": refunds,
        "refunded_minor": refunds * REFUND,
        "ledger_rows": orders + refunds,
        "doubled_ledger_sources": 0,
        "deliveries_without_exactly_one_ledger_row": 0,
        "confirmed_bookings": orders,
    }
    expected_outcomes = {"confirmed": orders, "refund_recorded": refunds}
    exactly_once = expected == found and outcomes == expected_outcomes
    return {"expected": expected, "found": found, "outcomes": outcomes, "exactly_once": exactly_once}


async def measure(bench_url: str, base_url: str, sim_url: str, total: int, senders: int) -> dict[str, Any]:
    rng = random.Random(7)
    the_plan = plan(total, 0.30, 0.10, rng)
    engine = create_async_engine(bench_url)
    try:
        await seed(engine, the_plan.orders)
        log(f"paying {len(the_plan.orders)} orders at the simulator ({len(the_plan.refunds)} refunded)")
        bodies = await at_the_gateway(sim_url, the_plan)
        sends = [bodies[event] for event in the_plan.sends]
        log(f"sending {len(sends)} webhooks ({the_plan.distinct} distinct) with {senders} senders")
        began = time.perf_counter()
        sent = await send_all(base_url, sends, senders)
        applied = await wait_applied(engine)
        total_to_applied = time.perf_counter() - began
        return {
            "webhooks": len(sends),
            "distinct_events": the_plan.distinct,
            "orders": len(the_plan.orders),
            "out_of_order_orders": len(the_plan.refunds),
            "senders": senders,
            "ingest_seconds": round(sent.wall, 2),
            "ingest_per_second": round(len(sends) / sent.wall, 1),
            "ack_latency_ms": latency(sent.latencies),
            "non_2xx": sent.non_2xx,
            "applied_after_ingest_seconds": round(applied, 2),
            "first_send_to_all_applied_seconds": round(total_to_applied, 2),
            "audit": await audit(engine, the_plan, sent),
        }
    finally:
        await engine.dispose()


def markdown(report: dict[str, Any]) -> str:
    ack = report["ack_latency_ms"]
    audit_ = report["audit"]
    found = audit_["found"]
    rows = [
        ("webhooks sent (distinct events)", f"{report['webhooks']} ({report['distinct_events']})"),
        ("orders (refund before payment)", f"{report['orders']} ({report['out_of_order_orders']})"),
        ("concurrent senders", report["senders"]),
        ("ingest throughput", f"{report['ingest_per_second']} webhooks/s"),
        ("ack latency p50 / p99", f"{ack['p50_ms']:.1f} / {ack['p99_ms']:.1f} ms"),
        ("non-2xx answers", report["non_2xx"]),
        ("all effects applied, from the first send", f"{report['first_send_to_all_applied_seconds']} s"),
        (
            "acknowledged as new / stored / applied",
            _three(found, "acknowledged_new", "deliveries", "applied_deliveries"),
        ),
        ("outcomes", ", ".join(f"{k} {v}" for k, v in sorted(audit_["outcomes"].items()))),
        ("ledger captures / refunds (rows)", f"{found['captures']} / {found['refunds']}"),
        (
            "ledger refunded vs sent (piasters)",
            f"{found['refunded_minor']} vs {audit_['expected']['refunded_minor']}",
        ),
        ("exactly-once audit", "pass" if audit_["exactly_once"] else f"FAIL {audit_}"),
    ]
    return "\n".join(["| measure | value |", "|---|---:|", *(f"| {k} | {v} |" for k, v in rows)])


def _three(found: dict[str, int], *keys: str) -> str:
    return " / ".join(str(found[k]) for k in keys)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--webhooks", type=int, default=5000)
    parser.add_argument("--senders", type=int, default=64)
    args = parser.parse_args()
    servers: list[Server] = []
    # The servers stop (and the database goes) before their logs' folder is removed.
    with tempfile.TemporaryDirectory(prefix="booklnk-bench-") as logs, fresh_database(servers) as db:
        libpq = make_url(db.url).set(drivername="postgresql").render_as_string(hide_password=False)
        sim_port, port = free_port(), free_port()
        sim_url = f"http://127.0.0.1:{sim_port}"
        env = {**os.environ, "DATABASE_URL": libpq, **kashier_env(sim_url)}
        simulator = [sys.executable, "-m", "booklnk.cli", "kashier-sim", "--port", str(sim_port)]
        servers.append(start_server("kashier-sim", simulator, env, Path(logs), sim_port))
        api = [sys.executable, "-m", "booklnk.cli", "serve", "--workers", "2", "--port", str(port)]
        servers.append(start_server("api", api, env, Path(logs), port))
        messages_sim, messaging = start_messages_sim(env, Path(logs))
        servers.append(messages_sim)
        for i in range(2):
            servers.append(start_worker(f"worker-{i}", env | messaging, Path(logs)))
        wait_simulator(servers[0])
        wait_ready(servers[1])
        report = asyncio.run(measure(db.url, servers[1].base_url, sim_url, args.webhooks, args.senders))
    report["timestamp"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    report["load_average"] = os.getloadavg()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"webhooks-{report['timestamp'].replace(':', '')}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(markdown(report))
    print(f"\nJSON: {path}")


if __name__ == "__main__":
    main()
