"""Booking benchmark (issue 3, item 10): availability latency, booking throughput, a 200-client
race, and two ceilings to read the booking figure against. Not a test: nothing is asserted.

    python3 -m uv run python bench/booking.py [--quick]

One run uses one fresh database on the server in DATABASE_URL (default: the embedded
PostgreSQL), migrated, seeded with a barbershop of 50 staff and 20,000 bookings, measured
through the real API served by `booklnk serve --workers 2`, and dropped at the end (also on
failure). It prints a markdown table and writes the same figures as JSON to
bench/results/booking-<timestamp>.json. bench/README.md says what every figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import signal
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from booklnk.config import Settings
from booklnk.db.database import Database

from benchlib.availability_latency import Case, measure_availability
from benchlib.booking_load import audit, contended, interleaved, uncontended
from benchlib.booking_report import emit
from benchlib.ceiling_app import serve_ceiling
from benchlib.ceilings import db_ceiling, stack_ceiling
from benchlib.database import fresh_database, machine_info
from benchlib.output import log
from benchlib.processes import (
    WORKERS,
    Server,
    free_port,
    print_log_tails,
    server_env,
    start_server,
    wait_ready,
)
from benchlib.scenario import (
    CONCURRENCY,
    FULL,
    HORIZON_DAYS,
    QUICK,
    RACE_CLIENTS,
    RACE_SLOTS,
    SEED_DAYS,
    SLICES,
    STAFF,
    Budget,
)
from benchlib.shop import Shop, open_shop, seed_bookings

# ---------------------------------------------------------------------------- the run


@dataclass
class Run:
    bench_url: str
    kind: str
    api: Server
    stack: Server
    budget: Budget
    quick: bool


async def measure(run: Run) -> dict[str, Any]:
    owner_engine = create_async_engine(run.bench_url)
    settings = Settings()  # the same role and pool size as the API's workers use
    db = Database(run.bench_url, app_role=settings.db_app_role, pool_size=settings.db_pool_size)
    limits = httpx.Limits(
        max_connections=RACE_CLIENTS + 20, max_keepalive_connections=RACE_CLIENTS + 20, keepalive_expiry=2
    )  # below uvicorn's 5 s keep-alive: no reuse of a closing socket
    try:
        async with httpx.AsyncClient(base_url=run.api.base_url, limits=limits, timeout=120) as http:
            return await phases(run, owner_engine, db, http)
    finally:
        await db.dispose()
        await owner_engine.dispose()


async def phases(
    run: Run, owner_engine: AsyncEngine, db: Database, http: httpx.AsyncClient
) -> dict[str, Any]:
    report: dict[str, Any] = {"machine": await machine_info(owner_engine, run.kind), "quick": run.quick}
    report["budget"] = dataclasses.asdict(run.budget)
    log("set-up: shop, 50 staff, 200 customers through the API")
    shop = await open_shop(http, owner_engine)
    seeded = await seed_bookings(owner_engine, shop)
    report["scenario"] = scenario(shop, seeded)
    cases = [Case(days, staff) for days in (14, 31) for staff in (shop.staff[0], None)]
    report["availability"] = []
    for case in cases:
        log(f"(a) availability: {case.label}")
        report["availability"].append(await measure_availability(db, http, shop, case, run.budget))
    log(f"(b) uncontended bookings for {run.budget.uncontended_seconds:.0f}s, {CONCURRENCY} in flight")
    report["uncontended"], created, used = await uncontended(http, shop, run.budget)
    log("(d) ceilings: database (app transaction, then bare), then stack (HTTP)")
    report["ceilings"] = {
        "db": await db_ceiling(db, 0, run.budget, bare=False),
        "db_bare": await db_ceiling(db, 10**8, run.budget, bare=True),
        "stack": await stack_ceiling(http, run.stack.base_url, 2 * 10**8, run.budget),
    }
    log(f"(e) booking and stack ceiling in {SLICES} alternating rounds of {run.budget.slice_seconds:.1f}s")
    report["interleaved"], booked = await interleaved(http, shop, run.stack.base_url, used, run.budget)
    created += booked
    log(f"(c) contended: {RACE_CLIENTS} clients on {RACE_SLOTS} slots")
    report["contended"], winners = await contended(http, shop)
    created += len(winners)
    report["audit"] = await audit(owner_engine, shop, winners, seeded + created)
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return report


def scenario(shop: Shop, seeded: int) -> dict[str, Any]:
    return {
        "business_type": "barbershop",
        "time_zone": str(shop.zone),
        "staff": STAFF,
        "staff_hours": "09:00-21:00 every day",
        "service_minutes": 30,
        "buffer_after_minutes": 5,
        "seeded_bookings": seeded,
        "seeded_days": f"D+1..D+{SEED_DAYS} (D = {shop.today})",
        "horizon_days": HORIZON_DAYS,
        "api_workers": WORKERS,
        "concurrency": CONCURRENCY,
    }


# ---------------------------------------------------------------------------- main


def _interrupt(signum: int, _: object) -> None:
    # SIGTERM unwinds like Ctrl-C, so the finally blocks stop the servers and drop the database.
    raise KeyboardInterrupt(f"signal {signum}")


def bench(quick: bool) -> Path:
    servers: list[Server] = []
    # The servers stop (and the database goes) before their logs' folder is removed.
    with tempfile.TemporaryDirectory(prefix="booklnk-bench-") as logs, fresh_database(servers) as db:
        report = run_with_servers(db.url, db.kind, quick, Path(logs), servers)
    report["timestamp"] = db.started
    return emit(report)


def run_with_servers(
    bench_url: str, kind: str, quick: bool, logs: Path, servers: list[Server]
) -> dict[str, Any]:
    env = server_env(bench_url)
    api_port, stack_port = free_port(), free_port()
    api_command = [
        sys.executable,
        "-m",
        "booklnk.cli",
        "serve",
        "--workers",
        str(WORKERS),
        "--port",
        str(api_port),
    ]
    stack_command = [sys.executable, str(Path(__file__).resolve()), "--serve-ceiling", str(stack_port)]
    servers.append(start_server("api", api_command, env, logs, api_port))
    servers.append(start_server("stack-ceiling", stack_command, env, logs, stack_port))
    log("starting the API and the stack-ceiling app (2 workers each)")
    for server in servers:
        wait_ready(server)
    run = Run(bench_url, kind, servers[0], servers[1], QUICK if quick else FULL, quick)
    try:
        return asyncio.run(measure(run))
    except BaseException:
        print_log_tails(servers)
        raise


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller samples: about a minute in all")
    parser.add_argument("--serve-ceiling", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_ceiling:
        serve_ceiling(args.serve_ceiling)
        return
    signal.signal(signal.SIGTERM, _interrupt)
    bench(args.quick)


if __name__ == "__main__":
    main()
