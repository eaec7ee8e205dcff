"""Each process's pool: a fixed set of connections that a burst waits for (503 with
Retry-After past the wait) instead of opening and closing more; no ping before each use,
and a connection the server closed meanwhile replaced on use, the request none the wiser."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.api.app import create_app
from booklnk.config import Settings
from booklnk.db.database import Database, application_name
from support import FakeClock, stranger_headers


@pytest.fixture
async def small_db(database_url: str, settings: Settings) -> AsyncIterator[Database]:
    db = Database(database_url, app_role=settings.db_app_role, pool_size=2, pool_timeout=0.5)
    yield db
    await db.dispose()


@contextmanager
def server_queries(db: Database) -> Iterator[list[str]]:
    """The queries asyncpg logs for the pool's connections: those it sends by the simple
    protocol, the driver's BEGIN, COMMIT and ROLLBACK (a ping's among them), not the
    application's prepared statements."""
    sent: list[str] = []

    def log(record: Any) -> None:
        sent.append(record.query)

    def attach(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(log)

    event.listen(db.engine.sync_engine, "connect", attach)
    try:
        yield sent
    finally:
        event.remove(db.engine.sync_engine, "connect", attach)


async def _backend_pid(db: Database) -> int:
    async with db.transaction() as session:
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_pooled_connection_is_used_without_a_ping_first(small_db: Database) -> None:
    with server_queries(small_db) as sent:
        await _backend_pid(small_db)
        sent.clear()
        await _backend_pid(small_db)  # the same connection, back from the pool
    # A pre-ping was a transaction of its own first: BEGIN, ";", ROLLBACK.
    assert sent == ["BEGIN;", "COMMIT;"]


async def test_a_connection_opens_without_jit_and_names_its_process(small_db: Database) -> None:
    # JIT compiled the availability search's calendars statement on every execution once
    # a large crew put its estimate over jit_above_cost (34 ms of 120, and far more under
    # the generic plan): the app's connections open with it off, at no round trip.
    async with small_db.transaction() as session:
        jit = (await session.execute(text("SHOW jit"))).scalar_one()
        name = (await session.execute(text("SHOW application_name"))).scalar_one()
    assert (jit, name) == ("off", application_name())


async def test_a_connection_the_server_closed_is_replaced_on_use(
    small_db: Database, owner_engine: AsyncEngine
) -> None:
    first = await _backend_pid(small_db)
    async with owner_engine.begin() as conn:
        await conn.execute(text("SELECT pg_terminate_backend(CAST(:pid AS integer))"), {"pid": first})
    # The pool still holds the dead connection: the next transaction finds it closed on
    # its first statement, and starts again on a new one.
    second = await _backend_pid(small_db)
    assert second != first
    assert await _backend_pid(small_db) == second


@pytest.fixture
async def patient_db(database_url: str, settings: Settings) -> AsyncIterator[Database]:
    """Two connections and a wait long enough for a burst's last caller on a loaded
    machine: the burst test is about waiting, not about the wait's limit (CI once took
    longer than half a second to serve the first eleven)."""
    db = Database(database_url, app_role=settings.db_app_role, pool_size=2, pool_timeout=30)
    yield db
    await db.dispose()


async def test_a_burst_waits_for_the_pool_instead_of_opening_more_connections(patient_db: Database) -> None:
    opened: list[object] = []
    event.listen(patient_db.engine.sync_engine, "connect", lambda conn, _: opened.append(conn))
    held = asyncio.Event()

    async def one() -> int:
        async with patient_db.transaction() as session:
            await asyncio.sleep(0.02)
            await held.wait()
            return int((await session.execute(text("SELECT 1"))).scalar_one())

    burst = [asyncio.create_task(one()) for _ in range(12)]
    await asyncio.sleep(0.05)
    held.set()
    assert await asyncio.gather(*burst) == [1] * 12
    assert len(opened) == 2  # the pool's two, each used six times


async def test_a_request_that_waits_too_long_for_a_connection_answers_503_with_retry_after(
    small_db: Database, settings: Settings, clock: FakeClock
) -> None:
    app = create_app(settings, small_db, clock=clock)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as http,
        small_db.transaction(),
        small_db.transaction(),  # every connection of the pool taken
    ):
        response = await http.get("/v1/me", headers=stranger_headers(settings, clock))
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    assert response.json()["code"] == "database_unavailable"
