"""Test harness: one freshly migrated PostgreSQL database per run, emptied before each test.

The server is the one in DATABASE_URL, or else the embedded pgserver (the same code path
the service uses). Every test talks to real PostgreSQL through the real app role, so
row-level security is in force exactly as in production.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

import citus_cluster
import mail_server
import support
from answer_contract import AnswerContract
from booklnk.api.app import create_app
from booklnk.bootstrap import asyncpg_url, load_business_types, passwords_for
from booklnk.config import Settings
from booklnk.db.admin import execute_autocommit
from booklnk.db.database import Database
from booklnk.db.embedded import embedded_database_url
from booklnk.db.migrate import upgrade_async
from booklnk.jobs.runtime import Runtime
from booklnk.jobs.tasks import SWEEP_LAPSED_HOLDS, create_job_app
from booklnk.jobs.worker import MIDDLEWARE
from booklnk.logging import configure_logging
from booklnk.notifications.simulators import sms as sms_simulator
from booklnk.notifications.simulators import whatsapp as whatsapp_simulator
from booklnk.tables import metadata
from booklnk.tenancy.credentials import Passwords
from support import FakeClock, JobRunner, audit_status_changes

# Tables whose rows survive between tests: reference data re-synced from files.
KEPT_TABLES = {"business_type"}
# Fixtures that start servers of their own (the API as processes, the Kashier simulator, a
# PostgreSQL to stop and start).
LIVE_FIXTURES = {"live_server", "simulator_url", "api", "restartable_database", "site", "browser"}


_MAILBOX = mail_server.Mailbox()
_SMS = sms_simulator.SmsStore()
_WHATSAPP = whatsapp_simulator.WhatsAppSim(
    access_token=Settings.model_fields["whatsapp_access_token"].default.get_secret_value(),
    app_secret=Settings.model_fields["whatsapp_app_secret"].default.get_secret_value(),
)


def pytest_configure(config: pytest.Config) -> None:
    """One real SMTP server, one SMS gateway simulator and one WhatsApp Cloud API simulator
    for the whole run; the in-process workers and every server or worker process a test
    starts (they inherit the environment) send their messages to them."""
    controller = mail_server.start(_MAILBOX)
    os.environ["BOOKLNK_SMTP_PORT"] = str(controller.port)
    config.add_cleanup(controller.stop)
    gateway = sms_simulator.start(_SMS)
    os.environ["BOOKLNK_CEQUENS_API_URL"] = gateway.url
    config.add_cleanup(gateway.stop)
    cloud = whatsapp_simulator.start(_WHATSAPP)
    os.environ["BOOKLNK_WHATSAPP_API_URL"] = cloud.url
    config.add_cleanup(cloud.stop)


@pytest.fixture
def mailbox() -> Iterator[mail_server.Mailbox]:
    """What reached the suite's SMTP server during this test."""
    _MAILBOX.clear()
    yield _MAILBOX
    _MAILBOX.clear()


@pytest.fixture
def sms_gateway() -> Iterator[sms_simulator.SmsStore]:
    """What reached the suite's SMS gateway simulator during this test (faults cleared after)."""
    _SMS.clear()
    yield _SMS
    _SMS.clear()
    _SMS.clear_faults()


@pytest.fixture
def whatsapp_cloud() -> Iterator[whatsapp_simulator.WhatsAppSim]:
    """What reached the suite's WhatsApp simulator during this test, and the status webhooks
    it made (no server of the suite listens for them: a test posts them to its client)."""
    _WHATSAPP.clear()
    yield _WHATSAPP
    _WHATSAPP.clear()
    _WHATSAPP.clear_faults()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tiers, from what each test asks for: `pure` needs no database (milliseconds),
    `live` starts servers (races, simulators); the rest run the app in-process over a real
    database. `pytest -m pure`, `-m "not pure and not live"`, `-m live` run one tier."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & LIVE_FIXTURES:
            item.add_marker(pytest.mark.live)
        elif "database_url" not in names:
            item.add_marker(pytest.mark.pure)


def _server_url() -> str:
    if url := os.environ.get("DATABASE_URL"):
        return asyncpg_url(url)
    return embedded_database_url(Path(".booklnk/pgdata"))


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    """A fresh migrated database for the run, dropped afterwards: `booklnk_test_<random>` on
    the server, or distributed on a Citus cluster when one is configured
    (tests/citus_cluster.py)."""
    async with _run_database() as url:
        # Where sign_up reads the codes sent (psycopg's plain form of the URL).
        support.OUTBOX.url = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        yield url
        support.OUTBOX.close()


@contextlib.asynccontextmanager
async def _run_database() -> AsyncIterator[str]:
    if citus_cluster.configured():
        async with citus_cluster.cluster_database() as cluster:
            yield asyncpg_url(cluster.url)
        return
    server = make_url(_server_url())
    name = f"booklnk_test_{uuid.uuid4().hex[:10]}"
    # Administrative statements run in the server URL's own database (CI hands us a fresh
    # one; the embedded server's default is "postgres").
    admin = server.render_as_string(hide_password=False)
    await execute_autocommit(admin, f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        await upgrade_async(url)
        yield url
    finally:
        await execute_autocommit(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def owner_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A connection as the migrating (privileged) role: for set-up and audits only. On a
    Citus cluster its pooled connections are checked before use: the outage modules stop
    the cluster this database lives on too."""
    engine = create_async_engine(database_url, pool_pre_ping=citus_cluster.configured())
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(
        environment="test",
        jwt_secret="test-secret-that-is-long-enough-for-hs256-0123456789",  # type: ignore[arg-type]
        database_url=None,
        # Cheap Argon2: the suite signs up hundreds of users; production cost is unchanged.
        password_time_cost=1,
        password_memory_kib=1024,
        # One address (the test client's) signs up and books hundreds of times a minute;
        # tests of the per-address limits set their own (tests/api/test_request_limits.py).
        registrations_per_minute=100_000,
        logins_per_minute=100_000,
        bookings_per_minute=100_000,
    )


@pytest.fixture(scope="session")
async def shared_db(database_url: str, settings: Settings) -> AsyncIterator[Database]:
    database = Database(database_url, app_role=settings.db_app_role, pool_size=5)
    await load_business_types(database, settings)
    yield database
    await database.dispose()


@pytest.fixture
async def db(shared_db: Database, owner_engine: AsyncEngine) -> AsyncIterator[Database]:
    """The application's database, emptied of every row a previous test left. Afterwards,
    every status a booking took in the test is held to the state graph the code runs."""
    tables = ", ".join(t.name for t in metadata.sorted_tables if t.name not in KEPT_TABLES)
    async with owner_engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables}, procrastinate_jobs CASCADE"))
        await conn.execute(text("DELETE FROM business_type WHERE source <> 'builtin'"))
    yield shared_db
    await audit_status_changes(owner_engine)


@pytest.fixture(scope="session")
def passwords(settings: Settings) -> Passwords:
    return passwords_for(settings)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))


@pytest.fixture
def run_jobs(
    database_url: str, db: Database, settings: Settings, clock: FakeClock, owner_engine: AsyncEngine
) -> JobRunner:
    """Run the real worker (procrastinate, on the test database) until no job is due.

    The suite's clock stands before the real one, so every job is already due by the
    database's clock; `sweep=True` first queues the once-a-minute sweep of lapsed holds,
    as its schedule would."""

    async def run(*, sweep: bool = False) -> None:
        job_app = create_job_app(database_url)
        # A procrastinate worker defers its app's periodic jobs as it starts (the sweep of
        # lapsed holds among them, by the real minute): a test's run would then sweep or not
        # by the wall clock. Here periodic jobs run only when a test asks (`sweep`).
        job_app.periodic_registry.periodic_tasks.clear()
        runtime = Runtime(db, clock, settings)
        async with job_app.open_async():
            if sweep:
                await job_app.configure_task(SWEEP_LAPSED_HOLDS).defer_async(timestamp=0)
            await job_app.run_worker_async(
                wait=False,
                install_signal_handlers=False,
                listen_notify=False,
                additional_context={"runtime": runtime},
                worker_middleware=list(MIDDLEWARE),
            )
        await runtime.aclose()
        # A task that raised is retried later, so the run above would end quietly.
        async with owner_engine.connect() as conn:
            failed = await conn.execute(
                text(
                    "SELECT task_name, status FROM procrastinate_jobs"
                    " WHERE status = 'failed' OR (status = 'todo' AND attempts > 0)"
                )
            )
            assert failed.all() == []

    return run


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Every log line of the test, as the JSON a deployment writes (DEBUG and up)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging(json=True, level="DEBUG", stream=stream)
    yield stream
    root.handlers, root.level = handlers, level


@pytest.fixture
async def client(db: Database, settings: Settings, clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    app = AnswerContract(create_app(settings, db, clock=clock))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
    assert app.broken == [], "answers that break the OpenAPI document"
