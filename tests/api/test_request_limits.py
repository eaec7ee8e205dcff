"""Per-address rate limits (issue 10) on registration, login, booking creation and Kashier's
webhook: 429 problem+json with Retry-After, and the webhook never refuses Kashier."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from booklnk.api.app import create_app
from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.payments.kashier.signing import webhook_signature
from support import FakeClock

ONE_A_MINUTE = {
    "registrations_per_minute": 1,
    "logins_per_minute": 1,
    "bookings_per_minute": 1,
    "webhooks_per_minute": 1,
}


@pytest.fixture
async def strict(db: Database, settings: Settings, clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    """The app with every limit at one request a minute (the suite's own are far higher)."""
    app = create_app(settings.model_copy(update=ONE_A_MINUTE), db, clock=clock)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "too_many_requests"
    assert int(response.headers["Retry-After"]) in range(1, 61)  # whole seconds, within the minute


SIGNED = ["amount", "currency", "kashierOrderId", "merchantOrderId", "method", "status", "transactionId"]


def webhook_data(transaction_id: str) -> dict[str, Any]:
    return {
        "merchantOrderId": "bk-no-such-order",
        "kashierOrderId": f"k-{transaction_id}",
        "transactionId": transaction_id,
        "status": "SUCCESS",
        "method": "card",
        "amount": 10,
        "currency": "EGP",
        "signatureKeys": SIGNED,
    }


async def post_webhook(http: httpx.AsyncClient, data: dict[str, Any], api_key: str) -> httpx.Response:
    body = json.dumps({"event": "pay", "data": data})
    headers = {"content-type": "application/json", "x-kashier-signature": webhook_signature(api_key, data)}
    return await http.post("/v1/webhooks/kashier", content=body, headers=headers)


def registration() -> dict[str, str]:
    return {"email": f"r-{uuid.uuid4().hex[:8]}@example.com"}


async def test_registration_is_limited_per_address(strict: httpx.AsyncClient) -> None:
    assert (await strict.post("/v1/auth/register", json=registration())).status_code == 202
    assert_limited(await strict.post("/v1/auth/register", json=registration()))


async def test_login_is_limited_per_address_before_any_password_is_checked(strict: httpx.AsyncClient) -> None:
    body = {"email": "nobody@example.com", "password": "guess-guess"}
    assert (await strict.post("/v1/auth/login", json=body)).status_code == 401
    assert_limited(await strict.post("/v1/auth/login", json=body))


async def test_booking_creation_is_limited_per_address(strict: httpx.AsyncClient) -> None:
    path = f"/v1/businesses/{uuid.uuid4()}/bookings"
    assert (await strict.post(path, json={})).status_code == 401  # counted, then refused for its token
    assert_limited(await strict.post(path, json={}))


async def test_paying_by_a_link_is_limited_per_address(strict: httpx.AsyncClient) -> None:
    path = "/v1/pay/" + "x" * 75 + "?method=card"
    assert (await strict.post(path)).json()["code"] == "pay_link_not_found"  # counted, then refused
    assert_limited(await strict.post(path))


async def test_the_webhook_refuses_forgeries_past_the_limit_never_kashier(
    strict: httpx.AsyncClient, settings: Settings
) -> None:
    key = settings.kashier_api_key.get_secret_value()
    forged = webhook_data("TX-1")
    assert (await post_webhook(strict, forged, "not-the-key")).status_code == 401
    assert_limited(await post_webhook(strict, forged, "not-the-key"))
    for i in range(3):  # over the limit, Kashier's signed deliveries still go through
        signed = await post_webhook(strict, webhook_data(f"TX-{i + 2}"), key)
        assert signed.status_code == 200, signed.text


async def test_the_limits_are_documented(strict: httpx.AsyncClient) -> None:
    paths = (await strict.get("/openapi.json")).json()["paths"]
    for path in ("/v1/auth/register", "/v1/auth/login", "/v1/businesses/{business_id}/bookings"):
        assert "Retry-After" in paths[path]["post"]["responses"]["429"]["headers"]
    assert "Retry-After" in paths["/v1/webhooks/kashier"]["post"]["responses"]["429"]["headers"]
