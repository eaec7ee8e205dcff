"""An access token outlives its account by up to its lifetime: once the account is gone,
every route that reads the caller answers 401 problem+json, never 500 and never data."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booking_support import customer, open_bookable_shop
from support import Account, sign_up


async def _delete(owner_engine: AsyncEngine, *accounts: Account) -> None:
    async with owner_engine.begin() as conn:
        for account in accounts:
            await conn.execute(text("DELETE FROM app_user WHERE id = :id"), {"id": account.user_id})


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/me", None),
        ("GET", "/v1/me/bookings", None),
        ("GET", "/v1/businesses", None),
        ("POST", "/v1/businesses", {"name": "Ghost", "slug": "ghost-shop", "business_type": "barbershop"}),
        ("GET", "{shop}/services", None),
        ("POST", "{shop}/bookings", {"starts_at": "2026-11-26T10:00:00+02:00"}),
    ],
)
async def test_a_deleted_accounts_token_answers_401(
    client: httpx.AsyncClient, owner_engine: AsyncEngine, method: str, path: str, body: dict[str, str] | None
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    ghost = await customer(client)
    await _delete(owner_engine, ghost)
    if body is not None and path.endswith("/bookings"):
        body = {**body, "service_id": shop.service_id, "staff_id": shop.staff_ids[0]}
    response = await client.request(method, path.format(shop=shop.url), json=body, headers=ghost.headers)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert (response.json()["code"], response.json()["status"]) == ("invalid_token", 401)


async def test_a_deleted_owners_token_opens_nothing_in_their_business(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    await _delete(owner_engine, shop.owner)
    response = await client.get(f"{shop.url}/bookings", headers=shop.owner.headers)
    assert (response.status_code, response.json()["code"]) == (401, "invalid_token")


async def test_a_deleted_admins_token_is_refused_as_a_token(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    admin = await sign_up(client, "admin")
    async with owner_engine.begin() as conn:
        await conn.execute(
            text("UPDATE app_user SET is_platform_admin = true WHERE id = :id"), {"id": admin.user_id}
        )
    await _delete(owner_engine, admin)
    response = await client.post("/v1/business-types", headers=admin.headers, json={})
    assert (response.status_code, response.json()["code"]) == (401, "invalid_token")
