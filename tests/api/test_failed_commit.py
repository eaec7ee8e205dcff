"""A commit that fails answers 500 problem+json (never 201) and leaks nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.api.app import create_app
from booklnk.config import Settings
from booklnk.db.database import Database
from citus_cluster import not_on_citus
from support import FakeClock

APP = "https://app.example.com"


@pytest.fixture
async def commit_fails(owner_engine: AsyncEngine) -> AsyncIterator[None]:
    # A deferred constraint trigger fires at COMMIT, after the handler has returned.
    async with owner_engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE FUNCTION test_refuse_commit() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'secret internal detail'; END $$"
            )
        )
        await conn.execute(
            text(
                "CREATE CONSTRAINT TRIGGER test_refuse_commit AFTER INSERT ON one_time_code "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_refuse_commit()"
            )
        )
    yield
    async with owner_engine.begin() as conn:
        await conn.execute(text("DROP TRIGGER test_refuse_commit ON one_time_code"))
        await conn.execute(text("DROP FUNCTION test_refuse_commit()"))


@not_on_citus("Citus refuses triggers on its tables (the failure is made by one)")
@pytest.mark.usefixtures("commit_fails")
async def test_failed_commit_is_500_without_internals(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    response = await client.post(
        "/v1/auth/register",
        json={"email": "late@example.com"},
    )
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    body = response.text
    assert "secret internal detail" not in body
    assert "Traceback" not in body
    assert response.json()["code"] == "internal_error"
    async with owner_engine.connect() as conn:
        count = (await conn.execute(text("SELECT count(*) FROM outbox_message"))).scalar_one()
    assert count == 0  # (nor its message: it commits with the code or not at all)


async def test_a_500_still_carries_its_request_id_and_cors_headers(
    db: Database, settings: Settings, clock: FakeClock
) -> None:
    """Before, Starlette rendered an unexpected exception's 500 outside every middleware: a
    browser app could not read it (no CORS header), it carried no X-Request-ID to quote, and
    it was neither logged as a request nor counted."""
    allowed = settings.model_copy(update={"cors_allowed_origins": [APP]})
    app = create_app(allowed, db, clock=clock)

    async def broken() -> None:
        raise RuntimeError("secret internal detail")

    app.add_api_route("/v1/broken", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    quoted = "3b1f0c2d9e8a4b7c6d5e4f3a2b1c0d9e"
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/v1/broken", headers={"Origin": APP, "X-Request-ID": quoted})
    assert (response.status_code, response.json()["code"]) == (500, "internal_error")
    assert "secret internal detail" not in response.text
    assert response.headers["access-control-allow-origin"] == APP
    assert response.headers["x-request-id"] == response.json()["request_id"] == quoted
