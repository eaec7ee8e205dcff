"""While the database cannot be reached, requests answer 503 problem+json with
Retry-After, never a 500 with a traceback: the API has nothing to answer with, and the
client should come back shortly."""

from __future__ import annotations

import io
import json
import socket
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from booklnk.api.app import create_app
from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.db.errors import unreachable
from support import FakeClock, stranger_headers


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again on leaving: nothing listens there


@pytest.fixture
async def api_without_database(
    database_url: str, settings: Settings, clock: FakeClock
) -> AsyncIterator[httpx.AsyncClient]:
    url = make_url(database_url).set(host="127.0.0.1", port=_closed_port())
    db = Database(url.render_as_string(hide_password=False), app_role=settings.db_app_role, pool_size=1)
    transport = httpx.ASGITransport(app=create_app(settings, db, clock=clock), raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    finally:
        await db.dispose()


async def test_requests_answer_503_with_retry_after_while_the_database_is_down(
    api_without_database: httpx.AsyncClient, settings: Settings, clock: FakeClock, log_stream: io.StringIO
) -> None:
    signed_in = stranger_headers(settings, clock)
    for method, path, body, headers in [
        ("POST", "/v1/auth/register", {"email": "a@example.com"}, {}),
        ("POST", "/v1/auth/login", {"email": "a@example.com", "password": "x" * 12}, {}),
        ("GET", "/v1/me", None, signed_in),
        ("GET", f"/v1/businesses/{uuid.uuid4()}/services", None, signed_in),
    ]:
        response = await api_without_database.request(method, path, json=body, headers=headers)
        assert response.status_code == 503, f"{path}: {response.text}"
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == "5"
        problem = response.json()
        assert (problem["code"], problem["status"]) == ("database_unavailable", 503)
        assert "Traceback" not in response.text
    lines = [json.loads(line) for line in log_stream.getvalue().splitlines()]
    warned = [line for line in lines if line["event"] == "database_unavailable"]
    assert len(warned) == 4
    assert all("exception" not in line for line in lines)  # a known outage, not a crash to dig into


async def test_an_outage_is_told_apart_from_other_database_errors(database_url: str) -> None:
    db = Database(database_url, app_role="postgres", pool_size=1)
    try:
        # A connection the server ends in the middle of a transaction (an admin shutdown,
        # a failover): SQLAlchemy invalidates it.
        with pytest.raises(DBAPIError) as ended:
            async with db.sessionmaker() as session, session.begin():
                await session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        assert unreachable(ended.value)
        with pytest.raises(DBAPIError) as division:
            async with db.sessionmaker() as session, session.begin():
                await session.execute(text("SELECT 1 / 0"))
        assert not unreachable(division.value)
    finally:
        await db.dispose()
    assert unreachable(PoolTimeout("QueuePool limit of size 1 overflow 1 reached"))
    assert unreachable(ConnectionRefusedError(111, "Connect call failed"))
    assert not unreachable(FileNotFoundError("business_types/x.toml"))
    assert not unreachable(ValueError("no"))
