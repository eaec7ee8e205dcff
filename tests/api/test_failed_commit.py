"""A commit that fails answers 500 problem+json (never 201) and leaks nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


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
                "CREATE CONSTRAINT TRIGGER test_refuse_commit AFTER INSERT ON app_user "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_refuse_commit()"
            )
        )
    yield
    async with owner_engine.begin() as conn:
        await conn.execute(text("DROP TRIGGER test_refuse_commit ON app_user"))
        await conn.execute(text("DROP FUNCTION test_refuse_commit()"))


@pytest.mark.usefixtures("commit_fails")
async def test_failed_commit_is_500_without_internals(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    response = await client.post(
        "/v1/auth/register",
        json={"email": "late@example.com", "password": "long-enough-pass", "full_name": "Late"},
    )
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    body = response.text
    assert "secret internal detail" not in body
    assert "Traceback" not in body
    assert response.json()["code"] == "internal_error"
    async with owner_engine.connect() as conn:
        count = (await conn.execute(text("SELECT count(*) FROM app_user"))).scalar_one()
    assert count == 0
