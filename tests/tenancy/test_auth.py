"""Accounts: registration, login throttling, refresh rotation with reuse detection, logout."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from support import PASSWORD, FakeClock, sign_up


async def test_register_login_and_me(client: httpx.AsyncClient) -> None:
    account = await sign_up(client, "amira")
    me = await client.get("/v1/me", headers=account.headers)
    assert me.status_code == 200
    assert me.json()["user"]["email"] == account.email
    assert me.json()["memberships"] == []


async def test_password_is_stored_as_argon2_hash(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    account = await sign_up(client)
    async with owner_engine.connect() as conn:
        stored = (
            await conn.execute(
                text("SELECT password_hash FROM app_user WHERE id = :id"), {"id": account.user_id}
            )
        ).scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


async def test_register_rejects_short_password_naming_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/auth/register/verify",
        json={"email": "a@example.com", "code": "123456", "password": "short", "full_name": "A"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "body.password"
    assert response.json()["errors"][0]["rule"] == "string_too_short"


async def test_wrong_password_is_401_and_does_not_say_which_part_was_wrong(client: httpx.AsyncClient) -> None:
    account = await sign_up(client)
    wrong = await client.post("/v1/auth/login", json={"email": account.email, "password": "nope-nope-nope"})
    unknown = await client.post(
        "/v1/auth/login", json={"email": "ghost@example.com", "password": "whatever1"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


# Login throttling: test_login_throttle.py.


async def test_refresh_rotates_and_reuse_revokes_the_family(client: httpx.AsyncClient) -> None:
    account = await sign_up(client)
    first = await client.post("/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert first.status_code == 200
    second_token = first.json()["refresh_token"]
    assert second_token != account.refresh_token

    # The old token comes back (a thief replays it): refused, and the family dies with it.
    replay = await client.post("/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert replay.status_code == 401
    legit = await client.post("/v1/auth/refresh", json={"refresh_token": second_token})
    assert legit.status_code == 401


async def test_logout_revokes_refresh_token(client: httpx.AsyncClient) -> None:
    account = await sign_up(client)
    assert (
        await client.post("/v1/auth/logout", json={"refresh_token": account.refresh_token})
    ).status_code == 204
    after = await client.post("/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert after.status_code == 401


async def test_expired_access_token_is_401(client: httpx.AsyncClient, clock: FakeClock) -> None:
    account = await sign_up(client)
    clock.advance(timedelta(minutes=16))
    response = await client.get("/v1/me", headers=account.headers)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


async def test_forged_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/me", headers={"Authorization": "Bearer not.a.jwt"})
    assert response.status_code == 401
