"""Booking at the speed of the stack (issue 13, "the benchmark, made honest"): Booklnk's
booking POST against the minimal stack it runs on, both driven by an outside load generator
(wrk), over a sweep of requests in flight; and availability over days x staff, with the size
of each answer. Not a test: nothing is asserted.

    python3 -m uv run python bench/stack.py [--quick] [--seconds S]
                                            [--only throughput|round-trips|availability]

One run uses one fresh database on the server in DATABASE_URL (default: the embedded
PostgreSQL), migrated, with a barbershop of up to 200 barbers made through the API and its
calendar seeded by SQL. It serves the API (`booklnk serve --workers 2`), the minimal stack
(FastAPI + uvicorn, 2 workers + asyncpg: one exclusion-guarded insert per POST) and, for
reference, bench/booking.py's stack-ceiling app (the API's layers around the same insert), all
against that database. It measures what round trips alone cost: the minimal stack's insert
after 1 to 9 more statements in its transaction (a booking makes 12 round trips, the minimal
stack 3). It installs wrk (Debian's package) when it is missing, and stops the servers and
drops the database at the end (also on failure). It prints markdown tables and
writes the same figures as JSON to bench/results/stack-<timestamp>.json. bench/README.md says
what every figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from benchlib.availability_scaling import Repeats, ScaleCase, goal_cases, grid, measure_scaling
from benchlib.ceiling_app import serve_ceiling
from benchlib.database import fresh_database, machine_info
from benchlib.minimal_stack import serve_minimal
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
from benchlib.stack_load import round_trip_curve, sweep, targets
from benchlib.stack_report import HEADLINE, emit
from benchlib.stack_shop import StackShop, free_slot_count, open_stack_shop, seed_calendar
from benchlib.wrk import ensure_wrk, wrk_version

SCRIPT = Path(__file__).resolve()


@dataclass
class Plan:
    """What one run measures and for how long."""

    quick: bool
    throughput: bool
    round_trips: bool
    availability: bool
    levels: list[int]  # requests in flight (wrk connections) for the booking POST and the ceiling
    layered_levels: list[int]  # the same for the layered ceiling app (reference only)
    extra_trips: list[int]  # the round-trip curve: statements added to the minimal stack's insert
    seconds: float  # per wrk run
    warmup_seconds: float
    days: list[int]
    staff: list[int]
    repeats: Repeats
    customers: int
    goals: list[ScaleCase] = field(default_factory=list)

    @property
    def cases(self) -> list[ScaleCase]:
        return grid(self.days, self.staff) if self.availability else []

    @property
    def staff_counts(self) -> list[int]:
        return sorted({*self.staff, 50}) if self.availability else []  # 50: the goals' cases

    @property
    def seeded_days(self) -> int:
        return max([c.days for c in self.cases + self.goals], default=0)


def plan_of(args: argparse.Namespace) -> Plan:
    quick: bool = args.quick
    plan = Plan(
        quick=quick,
        throughput=args.only in (None, "throughput"),
        round_trips=args.only in (None, "round-trips"),
        availability=args.only in (None, "availability"),
        levels=args.levels or ([8, 32] if quick else [1, 4, 8, 16, 32, 64]),
        layered_levels=[] if quick or args.no_layered else list(HEADLINE),
        extra_trips=[3, 9] if quick else [1, 3, 6, 9],  # 9: as many round trips as a booking
        seconds=args.seconds or (3.0 if quick else 6.0),
        warmup_seconds=1.0 if quick else 2.0,
        days=args.days or ([1, 7] if quick else [1, 7, 31, 62]),
        staff=args.staff or ([1, 50] if quick else [1, 5, 50, 200]),
        repeats=Repeats(10, 0.5) if quick else Repeats(30, 2.0),
        customers=100 if quick else 200,  # at most 8 bookings a day each
    )
    if plan.availability:
        plan.goals = [g for g in goal_cases() if g.staff in plan.staff_counts]
    return plan


# ---------------------------------------------------------------------------- the run


@dataclass
class Run:
    bench_url: str
    kind: str
    servers: dict[str, Server]
    plan: Plan
    wrk: str
    scripts: Path


async def measure(run: Run) -> dict[str, Any]:
    engine = create_async_engine(run.bench_url)
    limits = httpx.Limits(max_connections=40, max_keepalive_connections=40, keepalive_expiry=2)
    try:
        async with httpx.AsyncClient(
            base_url=run.servers["booking"].base_url, limits=limits, timeout=120
        ) as http:
            return await phases(run, engine, http)
    finally:
        await engine.dispose()


async def phases(run: Run, engine: AsyncEngine, http: httpx.AsyncClient) -> dict[str, Any]:
    plan = run.plan
    report: dict[str, Any] = {"machine": await machine_info(engine, run.kind), "quick": plan.quick}
    report["wrk"] = {"version": wrk_version(run.wrk), "threads": 1}
    report["plan"] = {k: v for k, v in vars(plan).items() if k not in ("repeats", "goals")}
    report["plan"]["repeats"] = vars(plan.repeats)
    log(f"set-up: the shop and {plan.customers} customers, through the API")
    stack = await open_stack_shop(
        http, engine, staff_counts=plan.staff_counts, customers=plan.customers, seeded_days=plan.seeded_days
    )
    log(f"seeding the calendar: days 1..{stack.seeded_days}, {len(stack.staff)} barbers")
    report["scenario"] = scenario(stack, await seed_calendar(engine, stack))
    found = targets(stack, run.scripts, run.servers, plan.extra_trips if plan.round_trips else [])
    if plan.throughput:
        log(f"throughput under wrk: {plan.levels} in flight, {plan.seconds:.0f}s per run")
        report["throughput"] = await sweep(
            run.wrk,
            engine,
            found,
            levels=plan.levels,
            layered_levels=plan.layered_levels,
            seconds=plan.seconds,
            warmup_seconds=plan.warmup_seconds,
        )
    if plan.round_trips:
        log(f"round trips under wrk: 3 + {plan.extra_trips}, {list(HEADLINE)} in flight")
        report["round_trips"] = await round_trip_curve(
            run.wrk,
            engine,
            found,
            levels=list(HEADLINE),
            extra_trips=plan.extra_trips,
            seconds=plan.seconds,
            warmup_seconds=plan.warmup_seconds,
        )
    if plan.availability:
        log(f"availability scaling: {len(plan.cases)} cases, then {len(plan.goals)} for the goals")
        report["availability"] = {
            "grid": await measure_scaling(http, stack, plan.cases, plan.repeats),
            "goal_cases": await measure_scaling(http, stack, plan.goals, plan.repeats),
        }
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return report


def scenario(stack: StackShop, seeded: int) -> dict[str, Any]:
    return {
        "business_type": "barbershop",
        "time_zone": str(stack.shop.zone),
        "staff": len(stack.staff),
        "services_by_staff_count": sorted(stack.services),
        "staff_hours": "09:00-21:00 every day",
        "service_minutes": 30,
        "buffer_after_minutes": 5,
        "seeded_bookings": seeded,
        "seeded_days": f"D+1..D+{stack.seeded_days} (D = {stack.shop.today})",
        "booking_staff": len(stack.shop.staff),
        "booking_free_slots": free_slot_count(stack),
        "customers": len(stack.shop.customers),
        "api_workers": WORKERS,
    }


# ---------------------------------------------------------------------------- main


def _interrupt(signum: int, _: object) -> None:
    # SIGTERM unwinds like Ctrl-C, so the finally blocks stop the servers and drop the database.
    raise KeyboardInterrupt(f"signal {signum}")


def bench(plan: Plan) -> Path:
    wrk = ensure_wrk() if plan.throughput or plan.round_trips else "wrk"
    servers: dict[str, Server] = {}
    # The servers stop (and the database goes) before their logs' folder is removed.
    with (
        tempfile.TemporaryDirectory(prefix="booklnk-stack-") as folder,
        fresh_database(servers.values()) as db,
    ):
        report = run_with_servers(Run(db.url, db.kind, servers, plan, wrk, Path(folder)))
    report["timestamp"] = db.started
    return emit(report)


def run_with_servers(run: Run) -> dict[str, Any]:
    env = server_env(run.bench_url) | {"BOOKLNK_ACCESS_TOKEN_MINUTES": "240"}  # tokens outlive the run
    port = free_port()
    api = [sys.executable, "-m", "booklnk.cli", "serve", "--workers", str(WORKERS), "--port", str(port)]
    run.servers["booking"] = start_server("api", api, env, run.scripts, port)
    if run.plan.throughput or run.plan.round_trips:
        port = free_port()
        command = [sys.executable, str(SCRIPT), "--serve-minimal", str(port)]
        run.servers["minimal"] = start_server("minimal-stack", command, env, run.scripts, port)
    if run.plan.layered_levels:
        port = free_port()
        command = [sys.executable, str(SCRIPT), "--serve-layered", str(port)]
        run.servers["layered"] = start_server("layered-ceiling", command, env, run.scripts, port)
    log(f"starting {', '.join(s.name for s in run.servers.values())} ({WORKERS} workers each)")
    for server in run.servers.values():
        wait_ready(server)
    try:
        return asyncio.run(measure(run))
    except BaseException:
        print_log_tails(run.servers.values())
        raise


def numbers(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="8 and 32 in flight, days 1,7 x staff 1,50: under a minute"
    )
    parser.add_argument("--seconds", type=float, help="per wrk run (default 6, quick 3)")
    parser.add_argument(
        "--levels", type=numbers, help="requests in flight (default 1,4,8,16,32,64; quick 8,32)"
    )
    parser.add_argument(
        "--only", choices=["throughput", "round-trips", "availability"], help="one part of the run only"
    )
    parser.add_argument("--days", type=numbers, help="availability windows in days (default 1,7,31,62)")
    parser.add_argument("--staff", type=numbers, help="barbers per service (default 1,5,50,200; at most 200)")
    parser.add_argument("--no-layered", action="store_true", help="leave out the layered ceiling app")
    parser.add_argument("--serve-minimal", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--serve-layered", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_minimal:
        serve_minimal(args.serve_minimal)
        return
    if args.serve_layered:
        serve_ceiling(args.serve_layered)
        return
    signal.signal(signal.SIGTERM, _interrupt)
    bench(plan_of(args))


if __name__ == "__main__":
    main()
