"""Every route x every role -> the expected outcome, generated from the app's route table.

A new route without an entry in ACCESS fails `test_every_route_has_an_entry`, so nobody
can add an endpoint without deciding who may call it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.api.app import create_app
from booklnk.config import Settings
from booklnk.db.database import Database
from route_access import ACCESS, Access
from support import Account, add_staff, create_business, sign_up, sign_up_admin

ROLES = ("anonymous", "customer", "staff", "owner", "other_owner", "admin")


def _allowed(access: Access, role: str) -> bool:
    return {
        Access.PUBLIC: True,
        Access.PROVIDER: False,
        Access.SIGNED_IN: role != "anonymous",
        Access.STAFF: role in ("staff", "owner"),
        Access.OWNER: role == "owner",
        Access.ADMIN: role == "admin",
    }[access]


def _routes() -> list[tuple[str, str]]:
    """The app's operations, read from its OpenAPI document (every route is in it)."""
    app = create_app(Settings(), Database("postgresql+asyncpg://unused/unused", app_role="x"))
    return sorted(
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        if path.startswith("/v1")
        for method in item
    )


def test_every_route_has_an_entry() -> None:
    routes = set(_routes())
    assert sorted(routes - ACCESS.keys()) == [], "routes without an access entry"
    assert sorted(ACCESS.keys() - routes) == [], "access entries for routes that no longer exist"


@dataclass(frozen=True)
class Cast:
    business_id: uuid.UUID
    accounts: dict[str, Account]


@pytest.fixture
async def cast(client: httpx.AsyncClient, owner_engine: AsyncEngine) -> Cast:
    owner, staff, customer = (
        await sign_up(client, "owner"),
        await sign_up(client, "staff"),
        await sign_up(client),
    )
    other_owner, admin = await sign_up(client, "other"), await sign_up_admin(client, owner_engine)
    business_id = await create_business(client, owner)
    await create_business(client, other_owner)
    await add_staff(client, owner, business_id, staff)
    accounts = {
        "owner": owner,
        "staff": staff,
        "customer": customer,
        "other_owner": other_owner,
        "admin": admin,
    }
    return Cast(business_id, accounts)


def _concrete(path: str, cast: Cast) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "business_id":
            return str(cast.business_id)
        if name == "key":
            return "barbershop"
        return str(uuid.uuid4())  # unknown ids: a request that passes its guard then 404s

    return re.sub(r"\{(\w+)\}", fill, path)


@pytest.mark.parametrize("route", sorted(ACCESS), ids=lambda r: f"{r[0]} {r[1]}")
async def test_route_answers_each_role_as_declared(
    route: tuple[str, str], client: httpx.AsyncClient, cast: Cast
) -> None:
    method, template = route
    path = _concrete(template, cast)
    outcomes = {}
    for role in ROLES:
        account = cast.accounts.get(role)
        headers = account.headers if account else {}
        # An empty body: an allowed caller gets past the guard and meets validation (422)
        # or a missing id (404); a refused one is stopped at the guard.
        body = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
        response = await client.request(method, path, headers=headers, **body)
        outcomes[role] = response.status_code
    expected = {
        role: ("allowed" if _allowed(ACCESS[route], role) else (401 if role == "anonymous" else 403))
        for role in ROLES
    }
    if ACCESS[route] is Access.PROVIDER:
        # Unsigned (and, for WhatsApp's handshake, without Meta's verify token): refused
        # alike for every caller, whatever token they hold.
        refused = 404 if "/pay/" in template else 403 if method == "GET" else 401
        expected = dict.fromkeys(ROLES, refused)
        actual = outcomes
        assert actual == expected, f"{method} {template}: {outcomes}"
        return
    actual = {
        role: ("allowed" if status not in (401, 403) and status < 500 else status)
        for role, status in outcomes.items()
    }
    assert actual == expected, f"{method} {template}: {outcomes}"
