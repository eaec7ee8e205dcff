"""Checkout speaks the customer's language and hands the iframe and mobile SDKs what they
need (issue 10, "Checkout return"). Before, the page was always `display=en` and the answer
held the hosted page's URL only."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx

from booking_support import book, customer, open_bookable_shop
from booklnk.config import Settings
from booklnk.payments.kashier.signing import order_hash

START = "2026-11-25T10:00:00+02:00"


async def _checkout(client: httpx.AsyncClient, headers: dict[str, str], **body: str) -> httpx.Response:
    shop = await open_bookable_shop(client, barbers=1)
    buyer = await customer(client)
    booked = await book(client, shop, buyer, START)  # pay at the venue: the balance may be paid online
    assert booked.status_code == 201, booked.text
    return await client.post(
        f"{shop.url}/bookings/{booked.json()['id']}/payments",
        headers={**buyer.headers, **headers},
        json={"method": "card", **body},
    )


async def test_the_answer_carries_the_sdk_fields_signed_here_and_no_key(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await _checkout(client, {"Accept-Language": "ar-EG,ar;q=0.9,en;q=0.8"})
    assert response.status_code == 201, response.text
    body = response.json()
    page = body["kashier"]
    api_key = settings.kashier_api_key.get_secret_value()
    assert page == {
        "merchant_id": settings.kashier_mid,
        "order_id": body["order_id"],
        "amount": "150.00",
        "currency": "EGP",
        "hash": order_hash(api_key, settings.kashier_mid, body["order_id"], "150.00", "EGP"),
        "mode": "test",
        "display": "ar",
        "allowed_methods": "card",
        "merchant_redirect": "http://127.0.0.1:8000/v1/payments/kashier/return",
        "server_webhook": "http://127.0.0.1:8000/v1/webhooks/kashier",
    }
    # The URL is the same payment: same hash, same language.
    query = {k: v[0] for k, v in parse_qs(urlsplit(body["url"]).query).items()}
    assert (query["hash"], query["display"], query["amount"]) == (page["hash"], "ar", "150.00")
    for secret in (api_key, settings.kashier_secret_key.get_secret_value()):
        assert secret not in response.text


async def test_an_explicit_display_wins_over_the_browsers_language(client: httpx.AsyncClient) -> None:
    response = await _checkout(client, {"Accept-Language": "ar"}, display="en")
    assert response.status_code == 201, response.text
    assert response.json()["kashier"]["display"] == "en"
    assert "display=en" in response.json()["url"]
    english = await _checkout(client, {"Accept-Language": "fr, en-GB;q=0.8"})
    assert english.json()["kashier"]["display"] == "en"
    refused = await _checkout(client, {}, display="fr")
    assert refused.status_code == 422


# --- Return pages: allowed per business, checked at checkout ---


async def test_owners_list_return_origins_checked_by_rule(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    patch = {"return_origins": ["https://Book.Example.com:443", "http://localhost:3000"]}
    saved = await client.patch(shop.url, headers=shop.owner.headers, json=patch)
    assert saved.status_code == 200, saved.text
    assert saved.json()["return_origins"] == ["https://book.example.com", "http://localhost:3000"]
    for bad, where, rule in [
        (["https://book.example.com/done"], "body.return_origins.0", "not_an_origin"),
        (["https://ok.example.com", "http://book.example.com"], "body.return_origins.1", "http_only_local"),
        ([f"https://s{i}.example.com" for i in range(11)], "body.return_origins", "too_many"),
    ]:
        refused = await client.patch(shop.url, headers=shop.owner.headers, json={"return_origins": bad})
        assert refused.status_code == 422, refused.text
        issue = refused.json()["errors"][0]
        assert (issue["field"], issue["rule"]) == (where, rule)
    shown = await client.get(shop.url, headers=shop.owner.headers)
    assert shown.json()["return_origins"] == ["https://book.example.com", "http://localhost:3000"]


async def test_checkout_refuses_a_return_page_on_a_foreign_origin(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    saved = await client.patch(
        shop.url, headers=shop.owner.headers, json={"return_origins": ["https://book.example.com"]}
    )
    assert saved.status_code == 200, saved.text
    buyer = await customer(client)
    booked = await book(client, shop, buyer, START)
    assert booked.status_code == 201, booked.text
    path = f"{shop.url}/bookings/{booked.json()['id']}/payments"
    for field, url in [
        ("return_url", "https://evil.example/done"),
        ("return_url", "https://book.example.com.evil.example/done"),
        ("cancel_url", "http://book.example.com/cancel"),
        ("return_url", "/done"),
    ]:
        refused = await client.post(path, headers=buyer.headers, json={"method": "card", field: url})
        assert refused.status_code == 422, refused.text
        issue = refused.json()["errors"][0]
        assert (issue["field"], issue["rule"]) == (f"body.{field}", "return_url_not_allowed")
    taken = await client.post(
        path,
        headers=buyer.headers,
        json={
            "method": "card",
            "return_url": "https://book.example.com/done?ref=1",
            "cancel_url": "https://book.example.com/cancel",
        },
    )
    assert taken.status_code == 201, taken.text
    # Kashier still comes back to us: the client's page is reached through the return route.
    assert taken.json()["kashier"]["merchant_redirect"].endswith("/v1/payments/kashier/return")


async def test_the_return_route_documents_its_redirect(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    returned = document["paths"]["/v1/payments/kashier/return"]["get"]["responses"]
    assert "Location" in returned["303"]["headers"]
    assert "PaymentReturnOut" in json.dumps(returned["200"])
    checkout_in = document["components"]["schemas"]["CheckoutIn"]["properties"]
    assert {"return_url", "cancel_url"} <= checkout_in.keys()
