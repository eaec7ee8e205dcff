"""Helpers for the race tests: a live multi-process API server, a seeded barbershop, audits.

The races must cross process boundaries (two uvicorn workers, two connection pools), so
the server runs as a real child process on the test database, not in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from support import Account, sign_up

WORKERS = 2  # uvicorn server processes
STARTUP_SECONDS = 90  # the embedded PostgreSQL and two spawned workers can be slow on CI
STOP_SECONDS = 10
ALL_WEEK = {"hours": [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)], "breaks": []}


@dataclass(frozen=True)
class LiveServer:
    """A `booklnk serve --workers N` process group and where its output goes."""

    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def worker_pids(self) -> set[int]:
        """The pids of the workers that started (uvicorn logs one line per worker)."""
        return {
            int(p)
            for p in re.findall(
                r"Started server process \[(\d+)\]", self.log_path.read_text(errors="replace")
            )
        }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(database_url: str) -> dict[str, str]:
    """The child's environment: the test database (plain libpq form) and cheap Argon2."""
    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    return {
        **os.environ,
        "DATABASE_URL": url,
        "BOOKLNK_ENVIRONMENT": "test",
        "BOOKLNK_PASSWORD_TIME_COST": "1",
        "BOOKLNK_PASSWORD_MEMORY_KIB": "1024",
        # The races sign up, log in and book from one address far faster than a person.
        "BOOKLNK_REGISTRATIONS_PER_MINUTE": "100000",
        "BOOKLNK_LOGINS_PER_MINUTE": "100000",
        "BOOKLNK_BOOKINGS_PER_MINUTE": "100000",
        "BOOKLNK_JWT_SECRET": "race-test-secret-that-is-long-enough-0123456789",
        # Several workers run at once: each answers /health on a port of its own.
        "BOOKLNK_WORKER_HEALTH_PORT": "0",
        # The tests reconcile when they mean to: a worker started between 01:30 and 01:40 UTC
        # ran the nightly job (procrastinate defers a periodic task up to 10 minutes late) and
        # healed a lost webhook before the test's own run could find it.
        "BOOKLNK_RECONCILE_NIGHTLY": "false",
    }


@contextlib.contextmanager
def running_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, extra_env: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    """`booklnk serve --workers 2` on the test database, for one test module."""
    log_path = tmp_path_factory.mktemp("race-server") / "server.log"
    server = start_server(database_url, log_path, WORKERS, extra_env)
    try:
        yield server
    finally:
        stop_server(server)


@contextlib.asynccontextmanager
async def race_client(server: LiveServer, clients: int) -> AsyncIterator[httpx.AsyncClient]:
    # One connection per racing client, so the requests really are in flight together.
    # Idle connections are dropped well before uvicorn's 5 s keep-alive timeout closes them
    # from its side: reusing one the server is just closing fails with ReadError.
    limits = httpx.Limits(
        max_connections=clients + 10, max_keepalive_connections=clients + 10, keepalive_expiry=2
    )
    async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=60) as client:
        yield client


def start_server(
    database_url: str, log_path: Path, workers: int, extra_env: dict[str, str] | None = None
) -> LiveServer:
    port = free_port()
    env = {
        **server_env(database_url),
        "BOOKLNK_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        **(extra_env or {}),
    }
    command = [sys.executable, "-m", "booklnk.cli", "serve", "--workers", str(workers), "--port", str(port)]
    with log_path.open("wb") as log:
        # A new session makes the server a process-group leader: teardown signals the
        # supervisor and its workers together, so nothing is orphaned.
        process = subprocess.Popen(
            command,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = LiveServer(process, f"http://127.0.0.1:{port}", log_path)
    try:
        wait_until_ready(server, workers)
    except BaseException:
        stop_server(server)
        raise
    return server


@contextlib.contextmanager
def running_job_workers(
    database_url: str, log_dir: Path, count: int, extra_env: dict[str, str] | None = None
) -> Iterator[list[LiveServer]]:
    """`booklnk worker` processes on the test database (their own pools and clocks)."""
    workers = []
    try:
        for i in range(count):
            log_path = log_dir / f"worker-{i}.log"
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    [sys.executable, "-m", "booklnk.cli", "worker"],
                    env={**server_env(database_url), **(extra_env or {})},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            workers.append(LiveServer(process, "", log_path))
        yield workers
    finally:
        for worker in workers:
            stop_server(worker)


def wait_until_ready(server: LiveServer, workers: int) -> None:
    """Until every worker has started its app and the database answers through one."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}:\n{server.log_tail()}")
        started = server.log_path.read_text(errors="replace").count("Application startup complete.")
        if started >= workers and _ready(server.base_url):
            return
        time.sleep(0.2)
    raise TimeoutError(f"server not ready in {STARTUP_SECONDS}s:\n{server.log_tail()}")


def _ready(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def stop_server(server: LiveServer) -> None:
    """SIGTERM the whole group, then SIGKILL whatever is left; every wait is bounded."""
    _signal_group(server.process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.process.wait(timeout=STOP_SECONDS)
    # Whatever outlived a graceful stop (the supervisor or a stray worker) ends here.
    _signal_group(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=STOP_SECONDS)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group is already empty
        os.killpg(pgid, sig)


@dataclass(frozen=True)
class Shop:
    """A barbershop seeded over HTTP: barbers, chairs, a service needing a chair, customers."""

    business_id: uuid.UUID
    owner: Account
    barbers: list[uuid.UUID]
    chairs: list[uuid.UUID]
    service_id: uuid.UUID
    customers: list[Account]

    @property
    def url(self) -> str:
        return f"/v1/businesses/{self.business_id}"


async def _owner_call(http: httpx.AsyncClient, owner: Account, method: str, path: str, body: Any) -> Any:
    response = await http.request(method, path, headers=owner.headers, json=body)
    assert response.status_code in (200, 201), f"{method} {path}: {response.status_code} {response.text}"
    return response.json()


async def _create_business(
    http: httpx.AsyncClient, owner: Account, rule_overrides: dict[str, Any] | None
) -> uuid.UUID:
    slug = f"race-{uuid.uuid4().hex[:8]}"
    body: dict[str, Any] = {"name": "Race Cuts", "slug": slug, "business_type": "barbershop"}
    if rule_overrides:
        body["rule_overrides"] = rule_overrides
    return uuid.UUID((await _owner_call(http, owner, "POST", "/v1/businesses", body))["id"])


async def seed_shop(
    http: httpx.AsyncClient,
    *,
    barbers: int,
    chairs: int,
    customers: int | list[Account],
    rule_overrides: dict[str, Any] | None = None,
) -> Shop:
    """A barbershop open all week; its service needs a chair when `chairs` > 0. `customers`
    is how many to sign up, or accounts already signed up (customers may book anywhere)."""
    owner = await sign_up(http, "owner")
    business_id = await _create_business(http, owner, rule_overrides)
    url = f"/v1/businesses/{business_id}"
    await _owner_call(http, owner, "PUT", f"{url}/weekly-schedule", ALL_WEEK)
    staff_ids, chair_ids = [], []
    for i in range(barbers):
        staff = await _owner_call(http, owner, "POST", f"{url}/staff", {"display_name": f"Barber {i}"})
        await _owner_call(http, owner, "PUT", f"{url}/staff/{staff['id']}/weekly-schedule", ALL_WEEK)
        staff_ids.append(uuid.UUID(staff["id"]))
    for i in range(chairs):
        chair = await _owner_call(
            http, owner, "POST", f"{url}/resources", {"name": f"Chair {i}", "kind": "chair"}
        )
        await _owner_call(http, owner, "PUT", f"{url}/resources/{chair['id']}/weekly-schedule", ALL_WEEK)
        chair_ids.append(uuid.UUID(chair["id"]))
    service = {
        "name": "Haircut",
        "price_minor": 15000,
        "duration_options_minutes": [30, 45, 60],
        "staff_ids": [str(s) for s in staff_ids],
        "required_resource_kinds": ["chair"] if chairs else [],
    }
    created = await _owner_call(http, owner, "POST", f"{url}/services", service)
    people = await sign_up_many(http, customers) if isinstance(customers, int) else customers
    return Shop(business_id, owner, staff_ids, chair_ids, uuid.UUID(created["id"]), people)


async def sign_up_many(http: httpx.AsyncClient, count: int, concurrency: int = 20) -> list[Account]:
    """Customers signed up and logged in, a bounded number at a time (each hashes a password)."""
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> Account:
        async with gate:
            return await sign_up(http, f"customer{i}")

    return await asyncio.gather(*(one(i) for i in range(count)))


def statuses(responses: Sequence[httpx.Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


def unexpected(responses: Sequence[httpx.Response], limit: int = 3) -> str:
    """A few responses that are neither 201 nor a slot_unavailable 409, for failure messages."""
    odd = [r for r in responses if r.status_code != 201 and not is_slot_unavailable(r)]
    return "\n".join(f"{r.status_code} {r.headers.get('content-type')} {r.text[:500]}" for r in odd[:limit])


def is_slot_unavailable(response: httpx.Response) -> bool:
    return (
        response.status_code == 409
        and response.headers.get("content-type") == "application/problem+json"
        and response.json().get("code") == "slot_unavailable"
    )


# A lane belongs to one business: joined on it too, the pairs stay the same and Citus runs
# the join on each shard (colocated), where a join on the lane alone needs a repartition.
OVERLAPS_SQL = text(
    """
    SELECT a.lane, a.booking_id AS first, b.booking_id AS second, a.period, b.period AS other
    FROM allocation a
    JOIN allocation b ON a.business_id = b.business_id AND a.lane = b.lane
     AND a.booking_id < b.booking_id AND a.period && b.period
    WHERE a.active AND b.active
    """
)


async def overlapping_allocations(engine: AsyncEngine) -> list[Any]:
    """Pairs of active allocations of one lane whose blocked times overlap: must be none."""
    async with engine.connect() as conn:
        return list((await conn.execute(OVERLAPS_SQL)).all())


async def booking_count(engine: AsyncEngine, business_id: uuid.UUID) -> int:
    async with engine.connect() as conn:
        query = text("SELECT count(*) FROM booking WHERE business_id = :b")
        return int((await conn.execute(query, {"b": business_id})).scalar_one())


async def booking_copies(engine: AsyncEngine, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many rows of `booking` carry each id (each winner's must be exactly one)."""
    query = text("SELECT id, count(*) FROM booking WHERE id = ANY(:ids) GROUP BY id")
    async with engine.connect() as conn:
        found = {row[0]: int(row[1]) for row in await conn.execute(query, {"ids": list(ids)})}
    return {i: found.get(i, 0) for i in ids}


async def active_allocations(
    engine: AsyncEngine, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, int]]:
    """Per booking: (active staff allocations, active resource allocations)."""
    query = text(
        "SELECT booking_id, count(staff_id), count(resource_id) FROM allocation"
        " WHERE active AND booking_id = ANY(:ids) GROUP BY booking_id"
    )
    async with engine.connect() as conn:
        found = {row[0]: (int(row[1]), int(row[2])) for row in await conn.execute(query, {"ids": list(ids)})}
    return {i: found.get(i, (0, 0)) for i in ids}


async def database_clock(engine: AsyncEngine) -> datetime:
    """The database server's wall clock now (the clock `pg_stat_activity` is kept by)."""
    async with engine.connect() as conn:
        now: datetime = (await conn.execute(text("SELECT clock_timestamp()"))).scalar_one()
        return now


# Every application connection is named `booklnk-<pid>` (booklnk.db.database); a backend's
# `state_change` moves whenever it starts or finishes a statement.
SERVED_SQL = text(
    """
    SELECT DISTINCT application_name FROM pg_stat_activity
    WHERE datname = current_database() AND application_name LIKE 'booklnk-%' AND state_change >= :since
    """
)


async def processes_active_since(engine: AsyncEngine, since: datetime) -> set[int]:
    """The pids of the application processes whose connections ran a statement since `since`."""
    async with engine.connect() as conn:
        names = (await conn.execute(SERVED_SQL, {"since": since})).scalars()
        return {int(m[1]) for m in map(re.compile(r"booklnk-(\d+)").fullmatch, names) if m}


async def assert_every_worker_served(engine: AsyncEngine, server: LiveServer, since: datetime) -> set[int]:
    """Both (all) uvicorn workers ran statements for the round that began at `since`: nothing
    else talks to the server during a round, so the race really crossed processes. (Pooled
    connections stay open after a round, so each worker's shows its last statement.)"""
    workers = server.worker_pids()
    active = await processes_active_since(engine, since)
    assert len(workers) == WORKERS, server.log_tail()
    assert workers <= active, f"workers {sorted(workers)}, active since the round began {sorted(active)}"
    return active & workers
