"""Webhook intake at the speed of the stack (issue 13's third goal): Kashier's webhook POST
against the minimal stack it runs on, both under wrk at the same requests in flight, first
with no worker running, then with two `booklnk worker` processes applying what arrives.
Not a test: nothing is asserted.

    python3 -m uv run python bench/intake.py [--quick] [--seconds S]

Every request is a distinct `pay SUCCESS` webhook for an order seeded by SQL (a held booking
and its payment attempt), signed with the Payment API key as Kashier signs it: the intake's
whole path (verify, store once, queue its application, acknowledge), never a duplicate
while the prepared webhooks last (the table says how many were new). The minimal stack is
bench/stack.py's: FastAPI + uvicorn (2 workers) + asyncpg, one guarded insert per POST.
In the second phase the workers confirm each booking and send its messages to
`booklnk messages-sim`, as they would to the real providers.

Uses DATABASE_URL's server (else the embedded one), in a database of its own, dropped
after. Prints a markdown table and writes the figures as JSON to
bench/results/intake-<timestamp>.json. bench/README.md says what every figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from booklnk.payments.kashier.signing import webhook_signature

from benchlib.database import fresh_database, machine_info
from benchlib.kashier_orders import API_KEY, PRICE, WEBHOOK_PATH, kashier_env, seed, wait_simulator, webhook
from benchlib.minimal_stack import LANE
from benchlib.output import RESULTS_DIR, log
from benchlib.processes import (
    WORKERS,
    Server,
    free_port,
    print_log_tails,
    server_env,
    start_messages_sim,
    start_server,
    start_worker,
    still_running,
    wait_ready,
)
from benchlib.stack_load import Target, load, minimal_script
from benchlib.stack_report import cpu_cell
from benchlib.wrk import ensure_wrk, lua_string, script, wrk_version

STACK_SCRIPT = Path(__file__).resolve().parent / "stack.py"
RATE_ESTIMATE = 900  # webhooks/s, an upper bound of what a run can take: sizes the prepared set

# Webhook i of the run is line i of the prepared file (signature, a tab, the body). Read
# once per wrk thread, so the requests themselves cost the generator no work but a lookup.
INTAKE_LUA = """
local prepared = {}
for line in io.lines(@FILE@) do
  local tab = string.find(line, "\\t", 1, true)
  table.insert(prepared, {string.sub(line, 1, tab - 1), string.sub(line, tab + 1)})
end

function build(i)
  local item = prepared[(i % #prepared) + 1]
  local headers = {["Content-Type"] = "application/json", ["x-kashier-signature"] = item[1]}
  return wrk.format("POST", @PATH@, headers, item[2])
end
"""


@dataclass
class Plan:
    quick: bool
    levels: list[int]  # requests in flight (wrk connections)
    seconds: float
    warmup_seconds: float
    workers: bool  # the second phase, with two workers applying
    api_pool: int | None  # the API's connections per process (BOOKLNK_DB_POOL_SIZE), else its default

    @property
    def webhooks(self) -> int:
        phases = 2 if self.workers else 1
        runs = phases * len(self.levels) * self.seconds + 2 * self.warmup_seconds
        return int(runs * RATE_ESTIMATE)


async def count(engine: AsyncEngine, sql: str) -> int:
    async with engine.connect() as conn:
        found: int = (await conn.execute(text(sql))).scalar_one()
        return found


async def sweep(
    wrk: str, engine: AsyncEngine, targets: dict[str, Target], plan: Plan
) -> list[dict[str, Any]]:
    """At each level the minimal stack and the intake back to back, so the machine's other
    work (the workers' applying, in the second phase) weighs on each pair alike."""
    levels: list[dict[str, Any]] = []
    for connections in plan.levels:
        await analyze(engine)
        level: dict[str, Any] = {"connections": connections}
        for name, target in targets.items():
            log(f"  {name}: {connections} connections, {plan.seconds:.0f}s")
            level[name] = await load(wrk, engine, target, connections=connections, seconds=plan.seconds)
        level["intake_vs_minimal"] = level["intake"]["per_second"] / level["minimal"]["per_second"]
        level["backlog_at_end"] = await count(engine, UNAPPLIED_SQL)
        log(
            f"    minimal {level['minimal']['per_second']:,.0f}/s,"
            f" intake {level['intake']['per_second']:,.0f}/s"
            f" ({level['intake_vs_minimal']:.1%}), p99 {level['intake']['p99_ms']:.1f} ms"
        )
        levels.append(level)
    return levels


UNAPPLIED_SQL = "SELECT count(*) FROM webhook_delivery WHERE applied_at IS NULL"


async def analyze(engine: AsyncEngine) -> None:
    """Fresh statistics, as autovacuum keeps them on a production server. This machine's
    PostgreSQL runs with autovacuum off (its CI settings): without them the workers' job
    query, planned for an empty queue, took 630 ms per job against a backlog of 7,000."""
    async with engine.begin() as conn:
        await conn.execute(text("ANALYZE"))


async def drain(engine: AsyncEngine, limit_seconds: float = 900) -> float:
    """Seconds until the workers have applied every stored delivery."""
    began = time.perf_counter()
    while await count(engine, UNAPPLIED_SQL):
        if time.perf_counter() - began > limit_seconds:
            raise TimeoutError("the workers did not apply the backlog in time")
        await asyncio.sleep(0.2)
    return time.perf_counter() - began


def prepare(folder: Path, orders: list[str]) -> Path:
    """One signed `pay SUCCESS` webhook per order, a line each: signature, tab, body."""
    path = folder / "webhooks.tsv"
    with path.open("w") as out:
        for n, order in enumerate(orders):
            body = webhook(order, f"ko-{n}", "pay", f"tx-{uuid.uuid4().hex[:20]}", PRICE)
            out.write(f"{webhook_signature(API_KEY, body['data'])}\t{json.dumps(body)}\n")
    return path


@dataclass
class Run:
    bench_url: str
    kind: str
    plan: Plan
    wrk: str
    folder: Path
    env: dict[str, str]
    servers: dict[str, Server]


async def measure(run: Run) -> dict[str, Any]:
    engine = create_async_engine(run.bench_url)
    try:
        report: dict[str, Any] = {"machine": await machine_info(engine, run.kind), "quick": run.plan.quick}
        report["wrk"] = {"version": wrk_version(run.wrk), "threads": 1}
        report["plan"] = vars(run.plan) | {"webhooks": run.plan.webhooks}
        orders = [f"intake-{uuid.uuid4().hex[:16]}" for _ in range(run.plan.webhooks)]
        log(f"seeding {len(orders):,} orders and signing a webhook for each")
        await seed(engine, orders)
        await analyze(engine)
        intake_lua = INTAKE_LUA.replace("@FILE@", lua_string(str(prepare(run.folder, orders)))).replace(
            "@PATH@", lua_string(WEBHOOK_PATH)
        )
        targets = {
            "minimal": Target(
                "minimal",
                run.servers["minimal"].base_url,
                write(run.folder / "minimal.lua", minimal_script("/insert")),
                "SELECT count(*) FROM bench_ceiling WHERE lane = :lane",
                {"lane": LANE},
                server_group=run.servers["minimal"].process.pid,
            ),
            "intake": Target(
                "intake",
                run.servers["api"].base_url,
                write(run.folder / "intake.lua", script(intake_lua)),
                "SELECT count(*) FROM webhook_delivery",
                {},
                server_group=run.servers["api"].process.pid,
            ),
        }
        for target in targets.values():
            log(f"  warm-up: {target.name}, 8 connections, {run.plan.warmup_seconds:.0f}s")
            await load(run.wrk, engine, target, connections=8, seconds=run.plan.warmup_seconds)
        log(f"without a worker: {run.plan.levels} in flight")
        report["without_worker"] = await sweep(run.wrk, engine, targets, run.plan)
        if run.plan.workers:
            await with_workers(run, engine, targets, report)
        report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        return report
    finally:
        await engine.dispose()


async def with_workers(
    run: Run, engine: AsyncEngine, targets: dict[str, Target], report: dict[str, Any]
) -> None:
    """The second phase: two workers apply the first phase's backlog, then the same sweep runs
    while they apply what arrives."""
    log("starting the messages simulator and 2 workers; they apply the first phase's deliveries")
    run.servers["messages-sim"], messaging = start_messages_sim(run.env, run.folder)
    for i in range(2):
        run.servers[f"worker-{i}"] = start_worker(f"worker-{i}", run.env | messaging, run.folder)
    workers = [run.servers["messages-sim"], run.servers["worker-0"], run.servers["worker-1"]]
    await analyze(engine)
    report["backlog_applied_seconds"] = round(await drain(engine), 1)
    still_running(workers)
    log(f"with 2 workers applying: {run.plan.levels} in flight")
    report["with_workers"] = await sweep(run.wrk, engine, targets, run.plan)
    still_running(workers)
    await analyze(engine)
    report["last_applied_after_seconds"] = round(await drain(engine), 1)


def write(path: Path, content: str) -> Path:
    path.write_text(content)
    return path


def bench(plan: Plan) -> Path:
    wrk = ensure_wrk()
    servers: dict[str, Server] = {}
    # The servers stop (and the database goes) before their logs' folder is removed.
    with (
        tempfile.TemporaryDirectory(prefix="booklnk-intake-") as folder,
        fresh_database(servers.values()) as db,
    ):
        sim_port = free_port()
        sim_url = f"http://127.0.0.1:{sim_port}"
        env = server_env(db.url) | kashier_env(sim_url)
        run = Run(db.url, db.kind, plan, wrk, Path(folder), env, servers)
        report = run_with_servers(run, sim_port)
    timestamp = db.started
    report["timestamp"] = timestamp
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"intake-{timestamp.replace(':', '')}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(markdown(report))
    print(f"\nJSON: {path}")
    return path


def run_with_servers(run: Run, sim_port: int) -> dict[str, Any]:
    """The Kashier simulator (the workers' gateway; a payment's application never calls
    it), the API and the minimal stack; the workers start later, in `measure`."""
    simulator = [sys.executable, "-m", "booklnk.cli", "kashier-sim", "--port", str(sim_port)]
    run.servers["kashier-sim"] = start_server("kashier-sim", simulator, run.env, run.folder, sim_port)
    port = free_port()
    api = [sys.executable, "-m", "booklnk.cli", "serve", "--workers", str(WORKERS), "--port", str(port)]
    # Only the API's pool: the minimal stack reads the same setting for its own.
    api_env = run.env | ({"BOOKLNK_DB_POOL_SIZE": str(run.plan.api_pool)} if run.plan.api_pool else {})
    run.servers["api"] = start_server("api", api, api_env, run.folder, port)
    port = free_port()
    minimal = [sys.executable, str(STACK_SCRIPT), "--serve-minimal", str(port)]
    run.servers["minimal"] = start_server("minimal-stack", minimal, run.env, run.folder, port)
    wait_simulator(run.servers["kashier-sim"])
    wait_ready(run.servers["api"])
    wait_ready(run.servers["minimal"])
    try:
        return asyncio.run(measure(run))
    except BaseException:
        print_log_tails(run.servers.values())
        raise


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "| workers | in flight | minimal /s | intake /s | intake / minimal | intake p50 / p99 ms"
        " | new rows | non-2xx | unapplied at the end | CPU ms per answer: minimal; intake |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for phase, label in (("without_worker", "none"), ("with_workers", "2 applying")):
        for level in report.get(phase, []):
            intake, minimal = level["intake"], level["minimal"]
            non_2xx = intake["requests"] - intake["ok"]
            lines.append(
                f"| {label} | {level['connections']} | {minimal['per_second']:,.0f}"
                f" | {intake['per_second']:,.0f}"
                f" | {level['intake_vs_minimal']:.1%} | {intake['p50_ms']:.1f} / {intake['p99_ms']:.1f}"
                f" | {intake['rows_committed']:,} | {non_2xx} | {level['backlog_at_end']:,}"
                f" | {cpu_cell(minimal)}; {cpu_cell(intake)} |"
            )
    lines.append("")
    lines.append(
        "CPU ms per answer (/proc): the server's processes (in brackets, in the kernel) / PostgreSQL's"
        " / wrk's; with workers running, PostgreSQL's includes their work."
    )
    if "with_workers" in report:
        lines.append("")
        lines.append(
            f"The first phase's backlog applied in {report['backlog_applied_seconds']} s; the second's last"
            f" delivery applied {report['last_applied_after_seconds']} s after its last run."
        )
    return "\n".join(lines)


def _interrupt(signum: int, _: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def numbers(value: str) -> list[int]:
    return [int(x) for x in value.split(",") if x.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="8 and 64 in flight, 3 s per run")
    parser.add_argument("--seconds", type=float, help="per wrk run (default 6, quick 3)")
    parser.add_argument("--levels", type=numbers, help="requests in flight (default 1,8,16,64)")
    parser.add_argument("--no-workers", action="store_true", help="the first phase only: no worker running")
    parser.add_argument(
        "--api-pool", type=int, help="the API's database connections per process (the minimal stack's stay)"
    )
    args = parser.parse_args()
    quick: bool = args.quick
    plan = Plan(
        quick=quick,
        levels=args.levels or ([8, 64] if quick else [1, 8, 16, 64]),
        seconds=args.seconds or (3.0 if quick else 6.0),
        warmup_seconds=1.0 if quick else 2.0,
        workers=not args.no_workers,
        api_pool=args.api_pool,
    )
    signal.signal(signal.SIGTERM, _interrupt)
    bench(plan)


if __name__ == "__main__":
    main()
