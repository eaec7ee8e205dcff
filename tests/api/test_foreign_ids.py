"""Every business-scoped route answers 404 when its ids belong to another tenant.

Generated from the authorization matrix's route table: the owner of business A calls each
route under A's path with the ids of B's rows, and a valid body, so that only the tenant
wall can stop the request.
"""

from __future__ import annotations

import re
import uuid
from datetime import date

import httpx

from booklnk.bootstrap import kashier_config
from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.kernel.clock import utcnow
from booklnk.payments import reconciliation
from booklnk.payments.kashier.client import KashierClient
from class_support import Gym, open_gym, publish, take_seat
from route_access import ACCESS
from support import Account, create_business, sign_up

FOREIGN_ID_ROUTES = sorted(
    route
    for route in ACCESS
    if route[1].startswith("/v1/businesses/{business_id}/")
    and set(re.findall(r"\{(\w+)\}", route[1])) - {"business_id", "key"}
)
# Class routes only exist for class businesses: they are tried between two gyms.
CLASS_ROUTES = [route for route in FOREIGN_ID_ROUTES if "/class-" in route[1]]
APPOINTMENT_ROUTES = [route for route in FOREIGN_ID_ROUTES if route not in CLASS_ROUTES]
TIME_OFF = {"starts_at": "2027-01-10T10:00:00+02:00", "ends_at": "2027-01-10T12:00:00+02:00"}
OVERRIDE = {"date": "2027-01-11", "closed": True}


def _body(method: str, path: str) -> dict[str, object] | None:
    if method == "PATCH":
        return {}
    if method == "POST" and path.endswith("/payments"):
        return {"method": "card"}
    if method == "POST" and path.endswith("/refunds") and not path.endswith("/desk-refunds"):
        return {"amount_minor": 100}
    if method == "POST" and path.endswith(("/desk-payments", "/desk-refunds")):
        return {"amount_minor": 100, "method": "cash"}
    if method == "POST" and path.endswith(("/waitlist", "/class-sessions/{session_id}/bookings")):
        return {"payment_method": "card"}
    if path.endswith("/reschedule"):
        return {"starts_at": "2026-11-25T11:00:00+02:00"}
    if method in ("PUT", "POST") and path.endswith("weekly-schedule"):
        return {"hours": [], "breaks": []}
    if method in ("PUT", "POST") and "time-off" in path:
        return TIME_OFF
    if method in ("PUT", "POST") and "date-overrides" in path:
        return OVERRIDE
    return None


async def _create(client: httpx.AsyncClient, owner: Account, path: str, body: dict[str, object]) -> str:
    response = await client.post(path, headers=owner.headers, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _foreign_ids(client: httpx.AsyncClient, owner: Account, shop: uuid.UUID) -> dict[str, str]:
    base = f"/v1/businesses/{shop}"
    staff = await _create(client, owner, f"{base}/staff", {"display_name": "B's barber"})
    week = {"hours": [{"weekday": d, "start": "09:00", "end": "18:00"} for d in range(7)], "breaks": []}
    assert (
        await client.put(f"{base}/staff/{staff}/weekly-schedule", headers=owner.headers, json=week)
    ).is_success
    bookable = await _create(
        client, owner, f"{base}/services", {"name": "B's shave", "price_minor": 1, "staff_ids": [staff]}
    )
    resource = await _create(client, owner, f"{base}/resources", {"name": "B's chair", "kind": "chair"})
    hook = {"url": "http://127.0.0.1:9/hook", "events": ["booking.created"]}
    endpoint = await _create(client, owner, f"{base}/webhook-endpoints", hook)
    ids = {
        "user_id": str(owner.user_id),
        "booking_id": await _create(
            client,
            owner,
            f"{base}/bookings",
            {"service_id": bookable, "starts_at": "2026-11-25T10:00:00+02:00"},
        ),
        "service_id": await _create(
            client, owner, f"{base}/services", {"name": "B's cut", "price_minor": 100}
        ),
        "staff_id": staff,
        "resource_id": resource,
        "customer_id": await _create(client, owner, f"{base}/customers", {"name": "B's customer"}),
        "invitation_id": await _create(client, owner, f"{base}/invitations", {"email": "b@example.com"}),
        "staff/time_off_id": await _create(client, owner, f"{base}/staff/{staff}/time-off", TIME_OFF),
        "resources/time_off_id": await _create(
            client, owner, f"{base}/resources/{resource}/time-off", TIME_OFF
        ),
        "staff/override_id": await _create(client, owner, f"{base}/staff/{staff}/date-overrides", OVERRIDE),
        "resources/override_id": await _create(
            client, owner, f"{base}/resources/{resource}/date-overrides", OVERRIDE
        ),
        "business/override_id": await _create(client, owner, f"{base}/date-overrides", OVERRIDE),
        "endpoint_id": endpoint,
    }
    # (B's booking above was recorded for B's endpoint.)
    messages = await client.get(f"{base}/webhook-endpoints/{endpoint}/messages", headers=owner.headers)
    return ids | {"message_id": messages.json()["items"][0]["id"]}


def _fill(template: str, business_id: uuid.UUID, ids: dict[str, str]) -> str:
    owner_kind = (
        "staff" if "/staff/" in template else "resources" if "/resources/" in template else "business"
    )

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "business_id":
            return str(business_id)
        return ids.get(name) or ids[f"{owner_kind}/{name}"]

    return re.sub(r"\{(\w+)\}", fill, template)


async def _foreign_class_ids(client: httpx.AsyncClient, gym: Gym) -> dict[str, str]:
    """A series, its first session made full (capacity 1), and someone waiting for it."""
    series = await publish(client, gym, capacity=1)
    session_id = series["sessions"][0]["id"]
    taken = await take_seat(client, gym, session_id, gym.owner, payment_method="card")
    assert taken.status_code == 201, taken.text
    waiter = await sign_up(client, "waiter")
    waiting = await client.post(
        f"{gym.base}/class-sessions/{session_id}/waitlist",
        headers=waiter.headers,
        json={"payment_method": "card"},
    )
    assert waiting.status_code == 201, waiting.text
    return {"series_id": series["series"]["id"], "session_id": session_id, "entry_id": waiting.json()["id"]}


async def _answers(
    client: httpx.AsyncClient,
    routes: list[tuple[str, str]],
    owner_a: Account,
    shop_a: uuid.UUID,
    ids: dict[str, str],
) -> dict[str, int]:
    answers = {}
    for method, template in routes:
        path = _fill(template, shop_a, ids)
        body = _body(method, template)
        response = await client.request(
            method, path, headers=owner_a.headers, **({"json": body} if body is not None else {})
        )
        answers[f"{method} {template}"] = response.status_code
    return answers


async def _reconciliation_run(db: Database, settings: Settings, business_id: uuid.UUID) -> str:
    """A run of B's day (B has no payments, so Kashier is never called)."""
    async with KashierClient(kashier_config(settings)) as kashier:
        result = await reconciliation.reconcile(db, kashier, business_id, date(2026, 11, 23), now=utcnow())
    assert result is not None
    return str(result.run_id)


async def test_foreign_ids_under_own_business_are_not_found(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    assert len(APPOINTMENT_ROUTES) > 20
    owner_a, owner_b = await sign_up(client, "a"), await sign_up(client, "b")
    shop_a, shop_b = await create_business(client, owner_a), await create_business(client, owner_b)
    ids = await _foreign_ids(client, owner_b, shop_b)
    ids["run_id"] = await _reconciliation_run(db, settings, shop_b)
    answers = await _answers(client, APPOINTMENT_ROUTES, owner_a, shop_a, ids)
    assert {route: status for route, status in answers.items() if status != 404} == {}


async def test_foreign_class_ids_under_own_gym_are_not_found(client: httpx.AsyncClient) -> None:
    assert len(CLASS_ROUTES) >= 9
    gym_a, gym_b = await open_gym(client), await open_gym(client)
    ids = await _foreign_class_ids(client, gym_b)
    answers = await _answers(client, CLASS_ROUTES, gym_a.owner, gym_a.business_id, ids)
    assert {route: status for route, status in answers.items() if status != 404} == {}
