"""Builders for catalog tests: a business with its cast, and small creators through the API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from support import Account, add_staff, create_business, sign_up


@dataclass(frozen=True)
class Biz:
    """A business and its owner (signing up is the slow part of a test: hash the minimum)."""

    business_id: uuid.UUID
    owner: Account

    @property
    def url(self) -> str:
        return f"/v1/businesses/{self.business_id}"


@dataclass(frozen=True)
class Shop(Biz):
    """A business with a staff member (a member with the staff role) and a customer too."""

    staff: Account
    customer: Account


async def open_biz(client: httpx.AsyncClient, business_type: str = "barbershop") -> Biz:
    owner = await sign_up(client, "owner")
    return Biz(await create_business(client, owner, business_type), owner)


async def open_shop(client: httpx.AsyncClient, business_type: str = "barbershop") -> Shop:
    biz = await open_biz(client, business_type)
    staff, customer = await sign_up(client, "staff"), await sign_up(client)
    await add_staff(client, biz.owner, biz.business_id, staff)
    return Shop(biz.business_id, biz.owner, staff, customer)


async def create(client: httpx.AsyncClient, shop: Biz, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST as the owner and expect 201."""
    response = await client.post(f"{shop.url}{path}", headers=shop.owner.headers, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def add_service(client: httpx.AsyncClient, shop: Biz, **fields: Any) -> dict[str, Any]:
    return await create(client, shop, "/services", {"name": "Haircut", "price_minor": 15000, **fields})


async def add_staff_member(client: httpx.AsyncClient, shop: Biz, **fields: Any) -> dict[str, Any]:
    return await create(client, shop, "/staff", {"display_name": "Karim", **fields})


async def add_resource(client: httpx.AsyncClient, shop: Biz, **fields: Any) -> dict[str, Any]:
    return await create(client, shop, "/resources", {"name": "Chair 1", "kind": "chair", **fields})


def issues(response: httpx.Response) -> list[tuple[str, str]]:
    """The (field, rule) pairs of a 422 problem document."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [(e["field"], e["rule"]) for e in response.json()["errors"]]
