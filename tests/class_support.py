"""A gym with one instructor and a class service, and helpers to publish and book."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from support import Account, create_business, sign_up

# The suite's clock stands at 2026-11-24 09:00 UTC (11:00 in Cairo), a Tuesday.
WEEKLY = "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=6"


@dataclass(frozen=True)
class Gym:
    business_id: uuid.UUID
    owner: Account
    service_id: str
    staff_id: str

    @property
    def base(self) -> str:
        return f"/v1/businesses/{self.business_id}"


async def open_gym(
    client: httpx.AsyncClient, *, pay_at_venue: bool = False, capacity: int = 3, **rules: object
) -> Gym:
    """A gym with one coach and a class service; `rules`: the business's rule overrides."""
    owner = await sign_up(client, "gym-owner")
    overrides: dict[str, object] = {"payment_policy": "pay_at_venue"} if pay_at_venue else {}
    overrides |= rules
    business_id = await create_business(client, owner, "gym", rule_overrides=overrides)
    base = f"/v1/businesses/{business_id}"
    staff = await client.post(f"{base}/staff", headers=owner.headers, json={"display_name": "Coach"})
    assert staff.status_code == 201, staff.text
    service = await client.post(
        f"{base}/services",
        headers=owner.headers,
        json={"name": "Spin", "price_minor": 20_000, "capacity": capacity, "duration_options_minutes": [60]},
    )
    assert service.status_code == 201, service.text
    return Gym(business_id, owner, service.json()["id"], staff.json()["id"])


async def publish(client: httpx.AsyncClient, gym: Gym, **overrides: Any) -> dict[str, Any]:
    body = {
        "service_id": gym.service_id,
        "staff_id": gym.staff_id,
        "rrule": WEEKLY,
        "starts_on": "2026-11-24",
        "start_time": "18:00",
        **overrides,
    }
    response = await client.post(f"{gym.base}/class-series", headers=gym.owner.headers, json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def take_seat(
    client: httpx.AsyncClient, gym: Gym, session_id: str, who: Account, **body: Any
) -> httpx.Response:
    return await client.post(
        f"{gym.base}/class-sessions/{session_id}/bookings", headers=who.headers, json=body
    )
