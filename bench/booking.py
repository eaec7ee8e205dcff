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
import contextlib
import dataclasses
import itertools
import json
import math
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import httpx
import uvicorn
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import BaseModel
from sqlalchemy import insert, make_url, text
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from starlette.middleware.base import BaseHTTPMiddleware

from booklnk.api.observability import observe_request
from booklnk.booking import availability
from booklnk.booking.models import Allocation, Booking, BookingStatus
from booklnk.bootstrap import database_url, open_database
from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.db.migrate import upgrade_async
from booklnk.logging import configure_logging
from booklnk.scheduling.availability import list_slots
from booklnk.scheduling.intervals import Interval
from booklnk.tenancy.context import Actor
from booklnk.tenancy.service import access_business

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
WORKERS = 2  # uvicorn processes, for the API and for the stack-ceiling app alike
APP_ROLE = "booklnk_app"

# The scenario. 50 staff x 50 days x 8 bookings = 20,000 seeded bookings.
STAFF = 50
SEED_DAYS = 50  # local dates D+1 .. D+50 carry the seeded bookings
BLOCKS_PER_DAY = 16  # 09:00-21:00 cut in 45-minute blocks ...
BOOKED_BLOCKS = 8  # ... of which each staff member has 8 booked per day, at random
BLOCK = timedelta(minutes=45)
OPENS, CLOSES = clock_time(9), clock_time(21)
DURATION = timedelta(minutes=30)  # the service's only duration
BUFFER_AFTER = timedelta(minutes=5)  # the barbershop type's default: blocked = 35 minutes
HORIZON_DAYS = 90  # overridden from the type's 30 so a 31-day window is all bookable
FREE_DAYS = range(51, 81)  # untouched days: the uncontended bookings (b) take slots here
RACE_DAY = 85  # the contended race (c) happens on this day
CUSTOMERS = 200
RACE_CLIENTS, RACE_SLOTS = 200, 20
CONCURRENCY = 12  # requests in flight for (b) and both ceilings
WARMUP = 3  # discarded iterations per latency case
MIN_SAMPLES = 5  # taken even when a case's time budget has run out
assert DURATION + BUFFER_AFTER <= BLOCK, "seeded bookings must not overlap on a lane"
assert STAFF * SEED_DAYS * BOOKED_BLOCKS == 20_000

CEILING_INSERT = text("INSERT INTO bench_ceiling (lane, period) VALUES (:lane, tstzrange(:lo, :hi))")
CEILING_EPOCH = datetime(2030, 1, 1, tzinfo=UTC)
CEILING_ACTOR = uuid.UUID(int=1)  # app.user_id of the ceiling transactions (no row behind it)


@dataclass(frozen=True)
class Budget:
    """Per latency case: (max iterations, max seconds); per throughput phase: seconds."""

    engine: tuple[int, float]
    in_process: tuple[int, float]
    http: tuple[int, float]
    uncontended_seconds: float
    ceiling_seconds: float
    slice_seconds: float  # (e): each of the alternating booking and stack-ceiling slices


FULL = Budget(
    (300, 6.0), (80, 8.0), (80, 10.0), uncontended_seconds=20.0, ceiling_seconds=8.0, slice_seconds=4.0
)
QUICK = Budget(
    (40, 1.0), (10, 1.5), (10, 2.0), uncontended_seconds=5.0, ceiling_seconds=2.5, slice_seconds=1.5
)
SLICES = 3  # (e): rounds of one booking slice then one stack-ceiling slice
STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: every figure reported is a latency actually observed."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def latency(seconds: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    figures = {f"p{q}_ms": percentile(ms, q) for q in (50, 95, 99)}
    return {"n": len(ms), **figures, "mean_ms": sum(ms) / len(ms), "max_ms": max(ms)}


@dataclass
class LoopResult:
    elapsed: float
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)

    def summary(self, ok: str) -> dict[str, Any]:
        done = self.outcomes[ok]
        return {
            "ops": sum(self.outcomes.values()),
            "ok": done,
            "per_second": done / self.elapsed,
            "seconds": self.elapsed,
            "outcomes": dict(self.outcomes),
            **latency(self.latencies),
        }


async def closed_loop(
    op: Callable[[int], Awaitable[str]], *, concurrency: int, seconds: float, limit: int
) -> LoopResult:
    """`concurrency` workers call op(0), op(1), ... back to back until `seconds` pass or
    `limit` calls started; each call's outcome label and latency are kept."""
    numbers = itertools.count()
    deadline = time.perf_counter() + seconds
    result = LoopResult(elapsed=0.0)

    async def worker() -> None:
        while time.perf_counter() < deadline and (i := next(numbers)) < limit:
            started = time.perf_counter()
            outcome = await op(i)
            result.latencies.append(time.perf_counter() - started)
            result.outcomes[outcome] += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - started
    return result


async def sample(measure: Callable[[], Awaitable[float]], budget: tuple[int, float]) -> list[float]:
    """Sequential samples (one at a time: latency, not throughput), after a warm-up."""
    for _ in range(WARMUP):
        await measure()
    iterations, seconds = budget
    deadline = time.perf_counter() + seconds
    samples: list[float] = []
    while len(samples) < iterations and (len(samples) < MIN_SAMPLES or time.perf_counter() < deadline):
        samples.append(await measure())
    return samples


# ---------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A uvicorn supervisor and its workers, in their own process group."""

    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def start_server(name: str, command: list[str], env: dict[str, str], log_dir: Path, port: int) -> Server:
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as out:
        # A session of its own: stopping signals the supervisor and its workers together.
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Server(name, process, f"http://127.0.0.1:{port}", log_path)


def wait_ready(server: Server, timeout: float = 120.0) -> None:
    """Until every worker has started its app and one of them answers /readyz."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited ({server.process.returncode}):\n{server.log_tail()}")
        started = server.log_path.read_text(errors="replace").count("Application startup complete.")
        with contextlib.suppress(httpx.HTTPError):
            if started >= WORKERS and httpx.get(f"{server.base_url}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"{server.name} not ready in {timeout:.0f}s:\n{server.log_tail()}")


def stop_server(server: Server) -> None:
    """SIGTERM the group (by the pid we started), then SIGKILL what is left; bounded waits."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.process.wait(timeout=10)


def server_env(bench_url: str) -> dict[str, str]:
    libpq = make_url(bench_url).set(drivername="postgresql").render_as_string(hide_password=False)
    return {
        **os.environ,
        "DATABASE_URL": libpq,
        "BOOKLNK_PASSWORD_TIME_COST": "1",
        "BOOKLNK_PASSWORD_MEMORY_KIB": "1024",
    }


# ---------------------------------------------------------------------------- stack ceiling app


async def ceiling_unit_of_work(request: Request) -> AsyncIterator[AsyncSession]:
    """As the API's `unit_of_work`: the app's pool and role set-up, committed before the
    response is sent."""
    db: Database = request.app.state.db
    async with db.transaction(user_id=CEILING_ACTOR) as session:
        yield session


CeilingSession = Annotated[AsyncSession, Depends(ceiling_unit_of_work, scope="function")]
ceiling_routes = APIRouter()


class Inserted(BaseModel):
    n: int


@ceiling_routes.post("/insert/{n}", status_code=201, response_model=Inserted)
async def insert_one(n: int, session: CeilingSession) -> Inserted:
    await session.execute(CEILING_INSERT, span_of(n))
    return Inserted(n=n)


@ceiling_routes.get("/readyz")
async def ceiling_ready(session: CeilingSession) -> dict[str, str]:
    await session.execute(text("SELECT 1"))
    return {"status": "ok"}


def ceiling_app() -> FastAPI:
    """The stack ceiling: FastAPI with the API's middleware, logging, pool and transaction
    set-up (SET LOCAL ROLE and context), doing one guarded insert per request: everything
    the booking route has except auth and booking logic."""
    settings = Settings()
    configure_logging(json=settings.json_logs, level=settings.log_level)
    db = open_database(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await db.dispose()

    app = FastAPI(lifespan=lifespan)
    app.state.db = db
    app.add_middleware(BaseHTTPMiddleware, dispatch=observe_request)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID")
    app.include_router(ceiling_routes)
    return app


def serve_ceiling(port: int) -> None:
    """`--serve-ceiling PORT`: run `ceiling_app` the way `booklnk serve` runs the API."""
    settings = Settings()
    configure_logging(json=settings.json_logs, level=settings.log_level)
    uvicorn.run(
        "booking:ceiling_app",
        factory=True,
        app_dir=str(BENCH_DIR),
        host="127.0.0.1",
        port=port,
        workers=WORKERS,
        log_config=None,
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
    )


def span_of(n: int) -> dict[str, Any]:
    """Row n's period: disjoint from every other row's, so no insert ever conflicts."""
    lo = CEILING_EPOCH + timedelta(minutes=10 * n)
    return {"lane": 1, "lo": lo, "hi": lo + timedelta(minutes=5)}


# ---------------------------------------------------------------------------- database set-up


async def admin(server_url: str, sql: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def create_database(server_url: str, name: str, bench_url: str) -> None:
    await admin(server_url, f'CREATE DATABASE "{name}"')
    await upgrade_async(bench_url)
    engine = create_async_engine(bench_url)
    try:
        async with engine.begin() as conn:
            # The ceilings' scratch table: guarded exactly like allocation (the same stored
            # lane-folded span, the same exclusion constraint on active rows).
            await conn.execute(
                text(
                    "CREATE TABLE bench_ceiling (lane bigint NOT NULL, period tstzrange NOT NULL,"
                    " active boolean NOT NULL DEFAULT true,"
                    " span int8range GENERATED ALWAYS AS (booklnk_span(lane, period)) STORED,"
                    " CONSTRAINT ex_bench_ceiling EXCLUDE USING gist (span WITH &&) WHERE (active))"
                )
            )
            await conn.execute(text(f"GRANT SELECT, INSERT ON bench_ceiling TO {APP_ROLE}"))
    finally:
        await engine.dispose()


async def machine_info(engine: AsyncEngine, kind: str) -> dict[str, Any]:
    async with engine.connect() as conn:
        version = (await conn.execute(text("SHOW server_version"))).scalar_one()
    cpu = next(
        (line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")), "unknown"
    )
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "postgresql": version,
        "postgresql_server": kind,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _cpuinfo() -> list[str]:
    with contextlib.suppress(OSError):
        return Path("/proc/cpuinfo").read_text().splitlines()
    return []


# ---------------------------------------------------------------------------- the shop, over HTTP


@dataclass(frozen=True)
class Account:
    user_id: uuid.UUID
    headers: dict[str, str]


@dataclass(frozen=True)
class Shop:
    business_id: uuid.UUID
    service_id: uuid.UUID
    owner: Account
    staff: list[uuid.UUID]  # in the order the API lists them (display name)
    customers: list[Account]
    zone: ZoneInfo
    today: date  # the business's local date at set-up

    @property
    def url(self) -> str:
        return f"/v1/businesses/{self.business_id}"

    def at(self, day: int, clock: clock_time) -> datetime:
        """Local wall-clock `clock` on day `day` after set-up, as an aware local datetime."""
        return datetime.combine(self.today + timedelta(days=day), clock, tzinfo=self.zone)


async def call(http: httpx.AsyncClient, method: str, path: str, body: Any, who: Account | None) -> Any:
    response = await http.request(method, path, json=body, headers=who.headers if who else None)
    if response.status_code not in (200, 201):
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
    return response.json()


async def sign_up(http: httpx.AsyncClient, name: str) -> Account:
    email = f"{name}-{uuid.uuid4().hex[:10]}@bench.example.com"
    password = "bench-password-0123"
    user = await call(
        http, "POST", "/v1/auth/register", {"email": email, "password": password, "full_name": name}, None
    )
    tokens = await call(http, "POST", "/v1/auth/login", {"email": email, "password": password}, None)
    return Account(uuid.UUID(user["id"]), {"Authorization": f"Bearer {tokens['access_token']}"})


async def bounded(coroutines: Sequence[Awaitable[Any]], limit: int = 8) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(coroutine: Awaitable[Any]) -> Any:
        async with gate:
            return await coroutine

    return await asyncio.gather(*(one(c) for c in coroutines))


async def hire_barbers(http: httpx.AsyncClient, owner: Account, url: str) -> list[uuid.UUID]:
    """50 staff members, each working 09:00-21:00 every day (local time)."""
    week = {"hours": [{"weekday": d, "start": "09:00", "end": "21:00"} for d in range(7)], "breaks": []}

    async def barber(i: int) -> uuid.UUID:
        staff = await call(http, "POST", f"{url}/staff", {"display_name": f"Barber {i:02d}"}, owner)
        await call(http, "PUT", f"{url}/staff/{staff['id']}/weekly-schedule", week, owner)
        return uuid.UUID(staff["id"])

    return await bounded([barber(i) for i in range(STAFF)])


async def open_shop(http: httpx.AsyncClient) -> Shop:
    """A barbershop (horizon 90 days), its 50 barbers, one 30-minute service they all
    perform, and 200 customers: all through the public API, as in tests/booking."""
    owner = await sign_up(http, "owner")
    rules = {"horizon_days": HORIZON_DAYS}
    body = {"name": "Bench Cuts", "slug": f"bench-{uuid.uuid4().hex[:8]}", "business_type": "barbershop"}
    business = await call(http, "POST", "/v1/businesses", body | {"rule_overrides": rules}, owner)
    url = f"/v1/businesses/{business['id']}"
    staff = await hire_barbers(http, owner, url)
    service = {"name": "Cut", "price_minor": 15_000, "duration_options_minutes": [30]}
    created = await call(
        http, "POST", f"{url}/services", service | {"staff_ids": list(map(str, staff))}, owner
    )
    customers = await bounded([sign_up(http, f"customer{i}") for i in range(CUSTOMERS)])
    zone = ZoneInfo(business["time_zone"])
    return Shop(
        business_id=uuid.UUID(business["id"]),
        service_id=uuid.UUID(created["id"]),
        owner=owner,
        staff=staff,
        customers=customers,
        zone=zone,
        today=datetime.now(zone).date(),
    )


# ---------------------------------------------------------------------------- seeding by SQL


def seeded_starts(shop: Shop) -> Iterator[tuple[uuid.UUID, datetime]]:
    """On each of days 1..50, each barber has 8 of the day's 16 45-minute blocks booked,
    chosen at random (fixed seed, so every run sees the same calendar). Blocks never
    overlap and the last ends by 20:50 with its buffer, so every row is one the API could
    have written."""
    rng = random.Random(20261124)
    for day, staff_id in itertools.product(range(1, SEED_DAYS + 1), shop.staff):
        opens = shop.at(day, OPENS)
        for block in sorted(rng.sample(range(BLOCKS_PER_DAY), BOOKED_BLOCKS)):
            yield staff_id, (opens + block * BLOCK).astimezone(UTC)


def seeded_rows(shop: Shop, lanes: dict[uuid.UUID, int]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Confirmed bookings and their staff allocations (blocked time: buffer included)."""
    bookings: list[dict[str, Any]] = []
    allocations: list[dict[str, Any]] = []
    common = {"business_id": shop.business_id, "service_id": shop.service_id, "hold_expires_at": None}
    for staff_id, start in seeded_starts(shop):
        booking_id = uuid.uuid4()
        customer = shop.customers[len(bookings) % len(shop.customers)]
        bookings.append(
            common
            | {"id": booking_id, "customer_id": customer.user_id, "staff_id": staff_id}
            | {"status": BookingStatus.CONFIRMED, "starts_at": start, "ends_at": start + DURATION}
            | {"payment_method": None, "price_minor": 15_000, "currency": "EGP", "extra_fields": {}}
            | {"version": 1}
        )
        period = Range(start, start + DURATION + BUFFER_AFTER)
        allocations.append(
            {"business_id": shop.business_id, "booking_id": booking_id, "lane": lanes[staff_id]}
            | {"staff_id": staff_id, "resource_id": None, "period": period, "active": True}
        )
    return bookings, allocations


async def seed_bookings(engine: AsyncEngine, shop: Shop) -> int:
    """Bulk insert as the owner login (the app's rules were followed when making the rows;
    the exclusion constraint still checks every allocation), then ANALYZE as autovacuum would."""
    async with engine.begin() as conn:
        rows = await conn.execute(
            text("SELECT id, lane FROM staff_member WHERE business_id = :b"), {"b": shop.business_id}
        )
        lanes = {row.id: row.lane for row in rows}
    bookings, allocations = seeded_rows(shop, lanes)
    chunk = 4000
    for i in range(0, len(bookings), chunk):
        async with engine.begin() as conn:
            await conn.execute(insert(Booking), bookings[i : i + chunk])
            await conn.execute(insert(Allocation), allocations[i : i + chunk])
        log(f"  seeded {min(i + chunk, len(bookings))}/{len(bookings)} bookings")
    async with engine.begin() as conn:
        await conn.execute(text("ANALYZE booking"))
        await conn.execute(text("ANALYZE allocation"))
    return len(bookings)


# ---------------------------------------------------------------------------- (a) availability


@dataclass(frozen=True)
class Case:
    days: int
    staff_id: uuid.UUID | None  # None: any of the 50

    @property
    def label(self) -> str:
        return f"{self.days} days, {'one named staff' if self.staff_id else f'any of {STAFF} staff'}"


def window_of(shop: Shop, case: Case) -> tuple[datetime, datetime]:
    """From local midnight tomorrow (the first seeded day), `case.days` days long."""
    start = shop.at(1, clock_time(0))
    return start, start + timedelta(days=case.days)


async def search_in_process(db: Database, shop: Shop, case: Case) -> tuple[float, availability.Offer]:
    """The route's work minus HTTP, auth and serialization: `search` (= prepare, i.e. the
    queries and schedule expansion, then list_slots), timed; and the engine's request."""
    actor = Actor(shop.owner.user_id)
    # A fresh transaction each time, as a request has: nothing cached in the session.
    async with db.transaction(user_id=actor.user_id) as session:
        ctx = await access_business(session, actor, shop.business_id, require=None)
        began = time.perf_counter()
        offer, _ = await availability.search(
            session,
            ctx,
            service_id=shop.service_id,
            staff_id=case.staff_id,
            duration_minutes=None,
            window=Interval(*window_of(shop, case)),
            now=datetime.now(UTC),
        )
        return time.perf_counter() - began, offer


async def measure_availability(
    db: Database, http: httpx.AsyncClient, shop: Shop, case: Case, budget: Budget
) -> dict[str, Any]:
    window = Interval(*window_of(shop, case))
    _, offer = await search_in_process(db, shop, case)

    async def engine() -> float:
        began = time.perf_counter()
        list_slots(offer.request, window)  # the AvailabilityRequest is built once, above
        return time.perf_counter() - began

    async def in_process() -> float:
        return (await search_in_process(db, shop, case))[0]

    engine_samples = await sample(engine, budget.engine)
    full_samples = await sample(in_process, budget.in_process)
    http_samples, shape = await measure_http_availability(http, shop, case, budget)
    return {
        "case": case.label,
        "days": case.days,
        "staff": "one" if case.staff_id else "any",
        "engine_slots": len(list_slots(offer.request, window)),
        **shape,
        "engine": latency(engine_samples),
        "in_process": latency(full_samples),
        "http": latency(http_samples),
    }


async def measure_http_availability(
    http: httpx.AsyncClient, shop: Shop, case: Case, budget: Budget
) -> tuple[list[float], dict[str, Any]]:
    start, end = window_of(shop, case)
    params = {"service_id": str(shop.service_id), "from": start.isoformat(), "to": end.isoformat()}
    if case.staff_id:
        params["staff_id"] = str(case.staff_id)
    shape: dict[str, Any] = {}
    statuses: Counter[int] = Counter()

    async def get() -> float:
        began = time.perf_counter()
        response = await http.get(f"{shop.url}/availability", params=params, headers=shop.owner.headers)
        body = response.content  # read fully: the client's time to receive is part of the figure
        elapsed = time.perf_counter() - began
        statuses[response.status_code] += 1
        if response.status_code == 200 and not shape:
            shape.update(http_slots=len(response.json()["slots"]), response_kib=len(body) / 1024)
        return elapsed

    samples = await sample(get, budget.http)
    shape["http_statuses"] = {str(k): v for k, v in statuses.items()}
    return samples, shape


# ---------------------------------------------------------------------------- (b) and (c) bookings


def free_slots(shop: Shop) -> Iterator[tuple[uuid.UUID, datetime]]:
    """Distinct (staff, start) pairs on untouched days, 45 minutes apart on each lane:
    none of them can conflict with another or with a seeded booking."""
    for day, block, staff_id in itertools.product(FREE_DAYS, range(BLOCKS_PER_DAY), shop.staff):
        yield staff_id, shop.at(day, OPENS) + block * BLOCK


def booking_body(shop: Shop, staff_id: uuid.UUID, start: datetime) -> dict[str, str]:
    return {"service_id": str(shop.service_id), "staff_id": str(staff_id), "starts_at": start.isoformat()}


def booker(http: httpx.AsyncClient, shop: Shop, first: int) -> Callable[[int], Awaitable[str]]:
    """op(i) books the (first + i)-th free slot; every call takes a slot no other took."""
    slots = list(free_slots(shop))

    async def book(i: int) -> str:
        staff_id, start = slots[first + i]
        customer = shop.customers[(first + i) % len(shop.customers)]
        response = await http.post(
            f"{shop.url}/bookings", json=booking_body(shop, staff_id, start), headers=customer.headers
        )
        return str(response.status_code)

    return book


async def uncontended(http: httpx.AsyncClient, shop: Shop, budget: Budget) -> tuple[dict[str, Any], int, int]:
    """Bookings of distinct free slots, CONCURRENCY in flight, for a fixed time. A short
    warm-up on the first slots comes first (its bookings count in the audit only).
    Returns the summary, the bookings made and the free slots used."""
    warmup = 2 * CONCURRENCY
    warm = await closed_loop(booker(http, shop, 0), concurrency=CONCURRENCY, seconds=60, limit=warmup)
    result = await closed_loop(
        booker(http, shop, warmup),
        concurrency=CONCURRENCY,
        seconds=budget.uncontended_seconds,
        limit=len(list(free_slots(shop))) - warmup,
    )
    used = warmup + sum(result.outcomes.values())
    return result.summary("201"), warm.outcomes["201"] + result.outcomes["201"], used


async def interleaved(
    http: httpx.AsyncClient, shop: Shop, stack_url: str, first_slot: int, budget: Budget
) -> tuple[dict[str, Any], int]:
    """(e) The booking/stack ratio again, from alternating slices of equal length (booking,
    stack, booking, ...). The machine is shared: a job starting or stopping elsewhere moves
    both figures alike, where (b) and (d) ran a minute apart. Returns the summary and the
    bookings made."""
    booked, stacked = LoopResult(elapsed=0.0), LoopResult(elapsed=0.0)
    slot, row = first_slot, 3 * 10**8
    limit = len(list(free_slots(shop)))
    for _ in range(SLICES):
        part = await closed_loop(
            booker(http, shop, slot),
            concurrency=CONCURRENCY,
            seconds=budget.slice_seconds,
            limit=limit - slot,
        )
        slot += sum(part.outcomes.values())

        async def post(n: int, base: int = row) -> str:
            return str((await http.post(f"{stack_url}/insert/{base + n}")).status_code)

        ceiling = await closed_loop(post, concurrency=CONCURRENCY, seconds=budget.slice_seconds, limit=10**7)
        row += 10**7
        for total, piece in ((booked, part), (stacked, ceiling)):
            total.elapsed += piece.elapsed
            total.latencies += piece.latencies
            total.outcomes.update(piece.outcomes)
    booking, stack = booked.summary("201"), stacked.summary("201")
    summary = {
        "slices": SLICES,
        "slice_seconds": budget.slice_seconds,
        "booking": booking,
        "stack": stack,
        "booking_vs_stack": booking["per_second"] / stack["per_second"],
    }
    return summary, booked.outcomes["201"]


async def contended(http: httpx.AsyncClient, shop: Shop) -> tuple[dict[str, Any], list[uuid.UUID]]:
    """200 customers at once on 20 slots (10 per slot: staff i at 12:00 on RACE_DAY)."""
    targets = [(shop.staff[i], shop.at(RACE_DAY, clock_time(12))) for i in range(RACE_SLOTS)]
    # Open every connection first, so the race measures requests, not TCP handshakes.
    await asyncio.gather(*(http.get("/healthz") for _ in range(RACE_CLIENTS)))
    gate = asyncio.Event()

    async def client(k: int) -> tuple[float, httpx.Response]:
        staff_id, start = targets[k % RACE_SLOTS]
        await gate.wait()
        began = time.perf_counter()
        response = await http.post(
            f"{shop.url}/bookings",
            json=booking_body(shop, staff_id, start),
            headers=shop.customers[k].headers,
        )
        return time.perf_counter() - began, response

    tasks = [asyncio.create_task(client(k)) for k in range(RACE_CLIENTS)]
    await asyncio.sleep(0.05)  # let every task reach the gate
    began = time.perf_counter()
    gate.set()
    done = await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - began
    statuses = Counter(str(r.status_code) for _, r in done)
    conflicts = sum(1 for _, r in done if r.status_code == 409 and r.json().get("code") == "slot_unavailable")
    winners = [uuid.UUID(r.json()["id"]) for _, r in done if r.status_code == 201]
    figures = {
        "clients": RACE_CLIENTS,
        "slots": RACE_SLOTS,
        "seconds": elapsed,
        "per_second": RACE_CLIENTS / elapsed,
        "statuses": dict(statuses),
        "created": statuses["201"],
        "conflicts_409_slot_unavailable": conflicts,
        **latency([t for t, _ in done]),
    }
    return figures, winners


# Any two active allocations of one lane overlapping in time. Sorting by start and keeping
# the running maximum end catches every overlap in O(n log n), not just adjacent pairs.
OVERLAPS_SQL = text(
    """
    SELECT count(*) FROM (
      SELECT lower(period) AS starts, max(upper(period)) OVER (
        PARTITION BY lane ORDER BY lower(period), booking_id
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier_end
      FROM allocation WHERE active) s
    WHERE earlier_end > starts
    """
)


async def audit(engine: AsyncEngine, shop: Shop, winners: list[uuid.UUID], created: int) -> dict[str, Any]:
    """The race's verdict from the database, and the whole run's booking count."""
    start = shop.at(RACE_DAY, clock_time(12)).astimezone(UTC)
    async with engine.connect() as conn:
        overlaps = (await conn.execute(OVERLAPS_SQL)).scalar_one()
        rows = await conn.execute(
            text(
                "SELECT b.id, b.staff_id FROM booking b JOIN allocation a"
                " ON a.business_id = b.business_id AND a.booking_id = b.id AND a.active"
                " WHERE b.business_id = :b AND b.starts_at = :t AND b.status IN ('held', 'confirmed')"
            ),
            {"b": shop.business_id, "t": start},
        )
        race = rows.all()
        total = (
            await conn.execute(
                text("SELECT count(*) FROM booking WHERE business_id = :b"), {"b": shop.business_id}
            )
        ).scalar_one()
    per_slot = Counter(row.staff_id for row in race)
    return {
        "overlapping_active_allocations": overlaps,
        "race_bookings_in_db": len(race),
        "race_slots_booked_exactly_once": sum(1 for n in per_slot.values() if n == 1),
        "race_db_matches_201s": sorted(row.id for row in race) == sorted(winners),
        "bookings_in_db": total,
        "bookings_expected": created,
    }


# ---------------------------------------------------------------------------- (d) ceilings


async def db_ceiling(db: Database, base: int, budget: Budget, *, bare: bool) -> dict[str, Any]:
    """One-row guarded inserts from this process's pool, no HTTP. `bare`: BEGIN/INSERT/COMMIT
    only; otherwise in `Database.transaction` (SET LOCAL ROLE and context), as the app does."""

    async def app_insert(n: int) -> str:
        async with db.transaction(user_id=CEILING_ACTOR) as session:
            await session.execute(CEILING_INSERT, span_of(base + n))
        return "ok"

    async def bare_insert(n: int) -> str:
        async with db.engine.begin() as conn:
            await conn.execute(CEILING_INSERT, span_of(base + n))
        return "ok"

    op = bare_insert if bare else app_insert
    await closed_loop(op, concurrency=CONCURRENCY, seconds=1, limit=2 * CONCURRENCY)  # warm the pool
    result = await closed_loop(
        lambda n: op(n + 2 * CONCURRENCY),
        concurrency=CONCURRENCY,
        seconds=budget.ceiling_seconds,
        limit=10**9,
    )
    return result.summary("ok")


async def stack_ceiling(http: httpx.AsyncClient, base_url: str, base: int, budget: Budget) -> dict[str, Any]:
    async def post(n: int) -> str:
        return str((await http.post(f"{base_url}/insert/{base + n}")).status_code)

    await closed_loop(post, concurrency=CONCURRENCY, seconds=1, limit=2 * CONCURRENCY)
    result = await closed_loop(
        lambda n: post(n + 2 * CONCURRENCY),
        concurrency=CONCURRENCY,
        seconds=budget.ceiling_seconds,
        limit=10**9,
    )
    return result.summary("201")


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
    shop = await open_shop(http)
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


# ---------------------------------------------------------------------------- the report


def ratios(report: dict[str, Any]) -> dict[str, float]:
    booking = report["uncontended"]["per_second"]
    ceilings = report["ceilings"]
    return {
        "booking_vs_stack": booking / ceilings["stack"]["per_second"],
        "booking_vs_db": booking / ceilings["db"]["per_second"],
        "booking_vs_db_bare": booking / ceilings["db_bare"]["per_second"],
    }


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    by_case = {(a["days"], a["staff"]): a["http"]["p50_ms"] for a in report["availability"]}
    audit_ = report["audit"]
    fives = server_errors(report)
    double = audit_["overlapping_active_allocations"] + (
        RACE_SLOTS - audit_["race_slots_booked_exactly_once"]
    )
    rows = [
        (
            "availability, one staff, 14 days, HTTP p50",
            "<= 15 ms",
            f"{by_case[(14, 'one')]:.1f} ms",
            by_case[(14, "one")] <= 15,
        ),
        (
            "availability, any of 50, 14 days, HTTP p50",
            "<= 60 ms",
            f"{by_case[(14, 'any')]:.1f} ms",
            by_case[(14, "any")] <= 60,
        ),
        (
            "uncontended booking / stack ceiling",
            ">= 40%",
            f"{report['ratios']['booking_vs_stack']:.1%}",
            report["ratios"]["booking_vs_stack"] >= 0.4,
        ),
        (
            "the same, from interleaved slices (e)",
            ">= 40%",
            f"{report['interleaved']['booking_vs_stack']:.1%}",
            report["interleaved"]["booking_vs_stack"] >= 0.4,
        ),
        ("double-bookings (overlaps + race slots not booked exactly once)", "0", str(double), double == 0),
        ("5xx responses, whole run", "0", str(fives), fives == 0),
    ]
    return [{"target": t, "goal": g, "measured": m, "met": ok} for t, g, m, ok in rows]


def server_errors(report: dict[str, Any]) -> int:
    counters = [
        report["uncontended"]["outcomes"],
        report["contended"]["statuses"],
        report["ceilings"]["stack"]["outcomes"],
        report["interleaved"]["booking"]["outcomes"],
        report["interleaved"]["stack"]["outcomes"],
        *(a["http_statuses"] for a in report["availability"]),
    ]
    return sum(n for counter in counters for status, n in counter.items() if status.startswith("5"))


def markdown(report: dict[str, Any]) -> str:
    m, s = report["machine"], report["scenario"]
    lines = [
        f"### Booking benchmark — {report['timestamp']}{' (quick)' if report['quick'] else ''}",
        "",
        f"Machine: {m['cores']} cores ({m['cpu']}), Python {m['python']}, PostgreSQL {m['postgresql']} "
        f"({m['postgresql_server']}); load average {m['load_average_at_start']} at start, "
        f"{m['load_average_at_end']} at end.",
        f"Scenario: {s['business_type']} in {s['time_zone']}, {s['staff']} staff {s['staff_hours']}, "
        f"{s['seeded_bookings']:,} bookings on {s['seeded_days']}, 30-minute service (+5 min buffer), "
        f"API on {s['api_workers']} uvicorn workers, {s['concurrency']} requests in flight for (b) and (d).",
        "",
        "**(a) Availability latency** (ms; sequential requests; window starts tomorrow 00:00 local)",
        "",
        "| case | slots | response | engine p50 | p95 | prepare+engine p50 | p95 | HTTP p50 | p95 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for a in report["availability"]:
        e, f, h = a["engine"], a["in_process"], a["http"]
        size = f"{a.get('response_kib', 0):,.0f} KiB"
        figures = [e["p50_ms"], e["p95_ms"], f["p50_ms"], f["p95_ms"], h["p50_ms"], h["p95_ms"]]
        lines.append(f"| {a['case']} | {a['engine_slots']} | {size} | " + " | ".join(map(ms, figures)) + " |")
    if any(a.get("http_slots") != a["engine_slots"] for a in report["availability"]):
        lines.append("\n**Warning:** the HTTP slot count differs from the engine's for some case (see JSON).")
    return "\n".join(lines + throughput_lines(report) + race_lines(report) + target_lines(report))


def ms(value: float) -> str:
    """Two decimals below 10 ms (the engine's figures), one above."""
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def throughput_lines(report: dict[str, Any]) -> list[str]:
    u, c, r = report["uncontended"], report["ceilings"], report["ratios"]
    rows = [
        ("(b) uncontended booking, HTTP (POST /bookings, named staff)", u),
        ("(d) DB ceiling: 1-row guarded insert in the app's transaction, no HTTP", c["db"]),
        ("(d) DB ceiling, bare BEGIN/INSERT/COMMIT (for reference)", c["db_bare"]),
        ("(d) stack ceiling: HTTP request doing only that insert", c["stack"]),
    ]
    lines = [
        "",
        f"**(b) and (d) Throughput** ({CONCURRENCY} in flight)",
        "",
        "| measure | done | per second | p50 ms | p99 ms | outcomes |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, x in rows:
        lines.append(
            f"| {name} | {x['ok']:,} | {x['per_second']:,.0f} | {x['p50_ms']:.1f} | "
            f"{x['p99_ms']:.1f} | {x['outcomes']} |"
        )
    lines += [
        "",
        f"Ratios: booking / stack ceiling = **{r['booking_vs_stack']:.1%}**, booking / DB ceiling = "
        f"**{r['booking_vs_db']:.1%}** (bare: {r['booking_vs_db_bare']:.1%}).",
    ]
    e = report["interleaved"]
    booked, stacked = e["booking"], e["stack"]
    lines += [
        "",
        f"(e) Interleaved, {e['slices']} rounds of {e['slice_seconds']:.1f} s each: booking "
        f"{booked['per_second']:,.0f}/s (p50 {booked['p50_ms']:.1f} ms, {booked['outcomes']}), "
        f"stack ceiling {stacked['per_second']:,.0f}/s ({stacked['outcomes']}): "
        f"booking / stack ceiling = **{e['booking_vs_stack']:.1%}**.",
    ]
    return lines


def race_lines(report: dict[str, Any]) -> list[str]:
    c, a = report["contended"], report["audit"]
    return [
        "",
        "**(c) Contended creation** (all clients released together)",
        "",
        "| clients | slots | wall s | requests/s | p50 ms | p99 ms | 201 | 409 slot_unavailable | statuses |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        f"| {c['clients']} | {c['slots']} | {c['seconds']:.2f} | {c['per_second']:.0f} | {c['p50_ms']:.0f} | "
        f"{c['p99_ms']:.0f} | {c['created']} | {c['conflicts_409_slot_unavailable']} | {c['statuses']} |",
        "",
        "Audit (SQL): overlapping active allocations on any lane = "
        f"**{a['overlapping_active_allocations']}**; "
        f"race slots booked exactly once = {a['race_slots_booked_exactly_once']}/{RACE_SLOTS}; race bookings "
        f"in the database = {a['race_bookings_in_db']} (same ids as the 201s: {a['race_db_matches_201s']}); "
        f"bookings in the business = {a['bookings_in_db']:,} (expected {a['bookings_expected']:,}).",
    ]


def target_lines(report: dict[str, Any]) -> list[str]:
    lines = ["", "**Targets (issue 3)**", "", "| target | goal | measured | met |", "|---|---|---|---|"]
    lines += [
        f"| {t['target']} | {t['goal']} | {t['measured']} | {'yes' if t['met'] else '**no**'} |"
        for t in report["targets"]
    ]
    return lines


def emit(report: dict[str, Any]) -> Path:
    report["ratios"] = ratios(report)
    report["targets"] = targets(report)
    report["server_errors_5xx"] = server_errors(report)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"booking-{report['timestamp'].replace(':', '')}.json"
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(markdown(report))
    print(f"\nJSON: {path}")
    return path


# ---------------------------------------------------------------------------- main


def _interrupt(signum: int, _: object) -> None:
    # SIGTERM unwinds like Ctrl-C, so the finally blocks stop the servers and drop the database.
    raise KeyboardInterrupt(f"signal {signum}")


def bench(quick: bool) -> Path:
    settings = Settings()
    server_url = database_url(settings)  # starts (or joins) the embedded server when unset
    kind = "embedded (pgserver)" if settings.database_url is None else "external (DATABASE_URL)"
    name = f"booklnk_bench_{uuid.uuid4().hex[:10]}"
    bench_url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    timestamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    log(f"database {name} on the {kind} server; migrating")
    servers: list[Server] = []
    try:
        asyncio.run(create_database(server_url, name, bench_url))
        with tempfile.TemporaryDirectory(prefix="booklnk-bench-") as logs:
            report = run_with_servers(bench_url, kind, quick, Path(logs), servers)
    finally:
        for server in servers:
            stop_server(server)
        log(f"dropping {name}")
        asyncio.run(admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    report["timestamp"] = timestamp
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
        for server in servers:
            print(f"--- {server.name} log tail ---\n{server.log_tail()}", file=sys.stderr)
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
