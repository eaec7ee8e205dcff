"""A business's public booking page, read without an account (issue 10, "Browsing without
an account"). Before, every read needed a token and nothing found a business by its slug:
each of these answered 404 (no such route)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from booking_support import BookableShop, book, customer, open_bookable_shop
from booklnk.api.app import create_app
from booklnk.config import Settings
from booklnk.db.database import Database
from class_support import open_gym, publish, take_seat
from support import FakeClock, sign_up

BUSINESS_KEYS = {"id", "slug", "name", "business_type", "mode", "time_zone", "currency", "policies"}
SERVICE_KEYS = {
    "id",
    "name",
    "description",
    "duration_options_minutes",
    "price_minor",
    "currency",
    "capacity",
    "staff_ids",
    "payment",
    "upfront_minor",
}
SLOT_KEYS = {"starts_at", "ends_at", "starts_at_local", "ends_at_local", "staff_ids"}
SESSION_KEYS = {
    "id",
    "service_id",
    "staff_id",
    "starts_at",
    "ends_at",
    "time_zone",
    "starts_at_local",
    "ends_at_local",
    "capacity",
    "seats_left",
}
WINDOW = {"from": "2026-11-25T00:00:00+02:00", "to": "2026-11-26T00:00:00+02:00"}


async def _slug(client: httpx.AsyncClient, business_id: uuid.UUID, headers: dict[str, str]) -> str:
    response = await client.get(f"/v1/businesses/{business_id}", headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["slug"])


async def _visit(client: httpx.AsyncClient, path: str, **params: str) -> Any:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def _furnished_shop(client: httpx.AsyncClient) -> BookableShop:
    """Two barbers (the second deactivated), an active and a retired service, opening
    hours with a lunch break, and a closed date."""
    shop = await open_bookable_shop(client, barbers=2)
    headers = shop.owner.headers
    hours = {
        "hours": [{"weekday": d, "start": "10:00", "end": "20:00"} for d in range(7)],
        "breaks": [{"weekday": d, "start": "14:00", "end": "15:00"} for d in range(7)],
    }
    assert (await client.put(f"{shop.url}/weekly-schedule", headers=headers, json=hours)).status_code == 200
    closed = await client.post(
        f"{shop.url}/date-overrides", headers=headers, json={"date": "2026-12-01", "closed": True}
    )
    assert closed.status_code == 201, closed.text
    assert (await client.delete(f"{shop.url}/staff/{shop.staff_ids[1]}", headers=headers)).status_code == 204
    retired = await client.post(
        f"{shop.url}/services", headers=headers, json={"name": "Shave", "price_minor": 5000}
    )
    assert (
        await client.delete(f"{shop.url}/services/{retired.json()['id']}", headers=headers)
    ).status_code == 204
    return shop


async def test_a_visitor_reads_a_shop_by_its_slug_without_an_account(client: httpx.AsyncClient) -> None:
    shop = await _furnished_shop(client)
    slug = await _slug(client, shop.business_id, shop.owner.headers)
    buyer = await customer(client)
    booked = await book(client, shop, buyer, "2026-11-25T10:00:00+02:00")
    assert booked.status_code == 201, booked.text
    base = f"/v1/public/businesses/{slug}"

    business = await _visit(client, base)
    assert set(business) == BUSINESS_KEYS
    assert business["id"] == str(shop.business_id)
    assert business["mode"] == "appointment"
    assert business["policies"] == {
        "payment": {
            "policy": "pay_at_venue",
            "deposit_percent": None,
            "methods": ["card", "wallet"],
            "hold_minutes": 10,
        },
        "cancellation": {"free_until_minutes_before": 60, "late_refund_percent": None},
        "booking": {"slot_grid_minutes": 15, "min_notice_minutes": 0, "horizon_days": 30},
        "booking_fields": {"type": "object", "properties": {}, "additionalProperties": False},
    }

    services = await _visit(client, f"{base}/services")
    assert [s["name"] for s in services["items"]] == ["Cut"]  # the retired Shave is not offered
    assert set(services["items"][0]) == SERVICE_KEYS
    assert services["items"][0]["staff_ids"] == [shop.staff_ids[0]]  # not the deactivated barber
    assert services["items"][0]["price_minor"] == 15_000
    assert services["items"][0]["upfront_minor"] == 0

    staff = await _visit(client, f"{base}/staff")
    assert staff["items"] == [{"id": shop.staff_ids[0], "display_name": "Barber 0"}]

    hours = await _visit(client, f"{base}/opening-hours")
    assert hours["time_zone"] == "Africa/Cairo"
    assert hours["from"] == "2026-11-24"
    assert hours["to"] == "2026-12-24"
    assert hours["weekly"]["hours"][0] == {"weekday": 0, "start": "10:00", "end": "20:00"}
    assert hours["weekly"]["breaks"][0] == {"weekday": 0, "start": "14:00", "end": "15:00"}
    assert hours["dates"] == [{"date": "2026-12-01", "closed": True, "hours": []}]

    # The same engine as the signed-in search: the same starts, the booked one taken.
    public = await _visit(client, f"{base}/availability", service_id=shop.service_id, **WINDOW)
    signed_in = await client.get(
        f"{shop.url}/availability", headers=buyer.headers, params={"service_id": shop.service_id, **WINDOW}
    )
    assert [s["starts_at"] for s in public["slots"]] == [s["starts_at"] for s in signed_in.json()["slots"]]
    assert set(public["slots"][0]) == SLOT_KEYS
    assert "2026-11-25T10:00:00+02:00" not in [s["starts_at_local"] for s in public["slots"]]
    assert public["slots"][0]["starts_at_local"] == "2026-11-25T10:45:00+02:00"  # 10:35 (buffer), grid

    # No customer data anywhere (the booking's customer, their account).
    for body in (business, services, staff, hours, public):
        text = json.dumps(body)
        assert str(buyer.user_id) not in text
        assert buyer.email not in text
        assert booked.json()["id"] not in text


async def test_a_class_page_shows_seats_left_never_who_took_them(client: httpx.AsyncClient) -> None:
    gym = await open_gym(client, pay_at_venue=True, capacity=3)
    await publish(client, gym)
    slug = await _slug(client, gym.business_id, gym.owner.headers)
    member = await sign_up(client, "member")
    window = {"from": "2026-11-24T00:00:00Z", "to": "2026-12-03T00:00:00Z"}
    listed = await client.get(f"{gym.base}/class-sessions", headers=member.headers, params=window)
    first = listed.json()["items"][0]["id"]
    seat = await take_seat(client, gym, first, member)
    assert seat.status_code == 201, seat.text
    base = f"/v1/public/businesses/{slug}"

    sessions = (await _visit(client, f"{base}/class-sessions", **window))["items"]
    assert [s["id"] for s in sessions] == [s["id"] for s in listed.json()["items"]]
    assert set(sessions[0]) == SESSION_KEYS
    assert (sessions[0]["capacity"], sessions[0]["seats_left"]) == (3, 2)
    offered = await _visit(client, f"{base}/availability", service_id=gym.service_id, **window)
    assert offered["mode"] == "class"
    assert offered["sessions"] == sessions
    assert (await _visit(client, base))["mode"] == "class"
    for body in (sessions, offered):
        assert str(member.user_id) not in json.dumps(body)
        assert seat.json()["id"] not in json.dumps(body)


async def test_an_unknown_slug_is_a_404_problem_and_a_token_is_not_needed_nor_read(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.get("/v1/public/businesses/no-such-shop")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["code"] == "business_not_found"
    shop = await open_bookable_shop(client, barbers=1)
    slug = await _slug(client, shop.business_id, shop.owner.headers)
    # The answer is the same for everyone: a stale or forged token is ignored, not refused.
    stale = await client.get(f"/v1/public/businesses/{slug}", headers={"Authorization": "Bearer nonsense"})
    assert stale.status_code == 200, stale.text


async def test_the_window_bounds_are_the_signed_in_searchs(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    slug = await _slug(client, shop.business_id, shop.owner.headers)
    base = f"/v1/public/businesses/{slug}"
    too_long = {"from": "2026-11-25T00:00:00Z", "to": "2027-02-25T00:00:00Z"}
    for params in (too_long, {"from": "2026-11-25T00:00:00", "to": "2026-11-26T00:00:00"}):
        refused = await client.get(f"{base}/availability", params={"service_id": shop.service_id, **params})
        assert refused.status_code == 422, refused.text
    wide = await client.get(f"{base}/opening-hours", params={"from": "2026-11-24", "to": "2027-02-24"})
    assert wide.status_code == 422
    appointment = await client.get(f"{base}/class-sessions", params=WINDOW)
    assert appointment.status_code == 422
    assert appointment.json()["errors"][0]["rule"] == "class_mode_only"


@pytest.fixture
async def limited(db: Database, settings: Settings, clock: FakeClock) -> Any:
    """An app allowing 3 public reads a minute per address, its limiter's time stopped (so
    that no refill can happen between the requests, however slow the machine)."""
    app = create_app(settings.model_copy(update={"public_reads_per_minute": 3}), db, clock=clock)
    app.state.public_reads.clock = lambda: 5000.0

    def client_from(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")

    return client_from


async def test_public_reads_are_rate_limited_per_address_with_retry_after(limited: Any) -> None:
    async with limited("203.0.113.7") as first, limited("198.51.100.9") as second:
        owner = await sign_up(first, "owner")
        shop_paths = [
            "/v1/public/businesses/some-shop",
            "/v1/public/businesses/some-shop/services",
            "/v1/public/businesses/some-shop/staff",
        ]
        # The routes share one limit: three reads of three routes (404s count too).
        assert [(await first.get(p)).status_code for p in shop_paths] == [404, 404, 404]
        refused = await first.get("/v1/public/businesses/some-shop/opening-hours")
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.headers["Retry-After"] == "20"
        assert refused.json()["code"] == "too_many_requests"
        # Another address is counted apart; signed-in routes are not limited by it.
        assert (await second.get(shop_paths[0])).status_code == 404
        assert (await first.get("/v1/me", headers=owner.headers)).status_code == 200


async def test_the_public_routes_are_documented_as_needing_no_token(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    public = {p: item for p, item in spec["paths"].items() if p.startswith("/v1/public/")}
    assert len(public) == 6
    for path, item in public.items():
        op = item["get"]
        assert op["security"] == [], path
        assert op["description"], path
        assert "429" in op["responses"], path
        assert "401" not in op["responses"], path
        assert op["operationId"].startswith("public_"), path
