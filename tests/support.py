"""Typed builders for tests: small functions that make one thing through the public API."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.api.app import create_app
from booklnk.bootstrap import load_business_types
from booklnk.config import Settings
from booklnk.db.database import Database

PASSWORD = "correct-horse-battery"


@dataclass(frozen=True)
class Account:
    user_id: uuid.UUID
    email: str
    headers: dict[str, str]
    refresh_token: str


async def sign_up(client: httpx.AsyncClient, name: str = "user") -> Account:
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
    registered = await client.post(
        "/v1/auth/register", json={"email": email, "password": PASSWORD, "full_name": name.title()}
    )
    assert registered.status_code == 201, registered.text
    return await log_in(client, email, uuid.UUID(registered.json()["id"]))


async def log_in(client: httpx.AsyncClient, email: str, user_id: uuid.UUID) -> Account:
    response = await client.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    tokens = response.json()
    return Account(
        user_id, email, {"Authorization": f"Bearer {tokens['access_token']}"}, tokens["refresh_token"]
    )


async def sign_up_admin(client: httpx.AsyncClient, owner_engine: AsyncEngine) -> Account:
    """A platform admin: promoted in the database (as `booklnk create-admin` does), then
    logged in again so the token carries the claim."""
    account = await sign_up(client, "admin")
    async with owner_engine.begin() as conn:
        await conn.execute(
            text("UPDATE app_user SET is_platform_admin = true WHERE id = :id"), {"id": account.user_id}
        )
    return await log_in(client, account.email, account.user_id)


async def create_business(
    client: httpx.AsyncClient, owner: Account, business_type: str = "barbershop", **extra: object
) -> uuid.UUID:
    slug = f"biz-{uuid.uuid4().hex[:8]}"
    response = await client.post(
        "/v1/businesses",
        headers=owner.headers,
        json={"name": slug.title(), "slug": slug, "business_type": business_type, **extra},
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


async def add_staff(
    client: httpx.AsyncClient, owner: Account, business_id: uuid.UUID, staff: Account
) -> None:
    invited = await client.post(
        f"/v1/businesses/{business_id}/invitations",
        headers=owner.headers,
        json={"email": staff.email, "role": "staff"},
    )
    assert invited.status_code == 201, invited.text
    accepted = await client.post(
        f"/v1/businesses/{business_id}/invitations/accept",
        headers=staff.headers,
        json={"token": invited.json()["token"]},
    )
    assert accepted.status_code == 200, accepted.text


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


class JobRunner(Protocol):
    """The `run_jobs` fixture: runs the real worker until no job is due."""

    def __call__(self, *, sweep: bool = False) -> Awaitable[None]: ...


@asynccontextmanager
async def in_process_api(
    database_url: str, settings: Settings, now: datetime
) -> AsyncIterator[tuple[httpx.AsyncClient, Database]]:
    """The app on a pool of its own, its clock stopped at `now`: one per hypothesis example
    (function-scoped fixtures are not set up again between examples)."""
    db = Database(database_url, app_role=settings.db_app_role, pool_size=2)
    try:
        await load_business_types(db, settings)
        transport = httpx.ASGITransport(
            app=create_app(settings, db, clock=FakeClock(now)), raise_app_exceptions=False
        )
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client, db
    finally:
        await db.dispose()
