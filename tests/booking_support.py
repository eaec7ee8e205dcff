"""Builders for booking tests: a shop ready to book, through the public API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from support import Account, create_business, sign_up

ALL_WEEK_9_TO_18 = {
    "hours": [{"weekday": d, "start": "09:00", "end": "18:00"} for d in range(7)],
    "breaks": [],
}


@dataclass(frozen=True)
class BookableShop:
    business_id: uuid.UUID
    owner: Account
    service_id: str
    staff_ids: list[str]
    chair_ids: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"/v1/businesses/{self.business_id}"


async def _post(client: httpx.AsyncClient, owner: Account, path: str, body: dict[str, Any]) -> str:
    response = await client.post(path, headers=owner.headers, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def open_bookable_shop(
    client: httpx.AsyncClient,
    *,
    business_type: str = "barbershop",
    barbers: int = 2,
    chairs: int = 0,
    durations: list[int] | None = None,
) -> BookableShop:
    """Barbers working 09:00-18:00 (Cairo) every day; a service they all perform, needing
    a chair when `chairs` > 0; no business opening hours (so staff hours alone apply)."""
    owner = await sign_up(client, "owner")
    business_id = await create_business(client, owner, business_type)
    base = f"/v1/businesses/{business_id}"
    staff_ids = []
    for i in range(barbers):
        staff_id = await _post(client, owner, f"{base}/staff", {"display_name": f"Barber {i}"})
        schedule = await client.put(
            f"{base}/staff/{staff_id}/weekly-schedule", headers=owner.headers, json=ALL_WEEK_9_TO_18
        )
        assert schedule.status_code == 200, schedule.text
        staff_ids.append(staff_id)
    chair_ids = [
        await _post(client, owner, f"{base}/resources", {"name": f"Chair {i}", "kind": "chair"})
        for i in range(chairs)
    ]
    service = {
        "name": "Cut",
        "price_minor": 15_000,
        "staff_ids": staff_ids,
        "required_resource_kinds": ["chair"] if chairs else [],
    }
    if durations:
        service["duration_options_minutes"] = durations
    service_id = await _post(client, owner, f"{base}/services", service)
    return BookableShop(business_id, owner, service_id, staff_ids, chair_ids)


async def book(
    client: httpx.AsyncClient, shop: BookableShop, customer: Account, starts_at: str, **extra: Any
) -> httpx.Response:
    body = {"service_id": shop.service_id, "starts_at": starts_at, **extra}
    return await client.post(f"{shop.url}/bookings", headers=customer.headers, json=body)


async def customer(client: httpx.AsyncClient) -> Account:
    return await sign_up(client, "customer")
