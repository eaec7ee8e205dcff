"""A pay link opened in a browser (it asks for `text/html`) answers its refusals as a page
in the reader's language that says what happened and what to do next; an API client
still gets the problem document. (The clock stands at 2026-11-24 11:00 in Cairo.)"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from booking_support import book, customer, open_bookable_shop
from booklnk.bootstrap import derived_key
from booklnk.config import Settings
from booklnk.payments.pay_links import PayClaim, link

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
ARABIC = {**BROWSER, "Accept-Language": "ar-EG,ar;q=0.9,en;q=0.5"}
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _path(settings: Settings, business_id: uuid.UUID, booking_id: uuid.UUID, until: datetime) -> str:
    key = derived_key(settings, "pay links").encode()
    url = link(settings.public_base_url, key, PayClaim(business_id, booking_id, until))
    return url.removeprefix(settings.public_base_url.rstrip("/"))


def _is_page(answer: httpx.Response, language: str) -> None:
    assert answer.headers["content-type"].startswith("text/html"), answer.text
    direction = "rtl" if language == "ar" else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in answer.text


@pytest.mark.parametrize(
    ("headers", "language", "sentence"),
    [
        (ARABIC, "ar", "هذا الرابط غير صحيح"),
        (BROWSER, "en", "This link is not right"),
    ],
)
async def test_a_link_that_is_not_ours_is_a_page_for_a_browser(
    client: httpx.AsyncClient, headers: dict[str, str], language: str, sentence: str
) -> None:
    for path in ("/v1/pay/" + "x" * 40, "/v1/pay/short", "/v1/pay/" + "y" * 400):
        for method in ("GET", "POST"):
            answer = await client.request(method, path, params={"method": "card"}, headers=headers)
            assert answer.status_code == 404, (path, answer.text)
            _is_page(answer, language)
            assert sentence in answer.text


async def test_an_api_client_still_gets_the_problem_document(client: httpx.AsyncClient) -> None:
    answer = await client.get("/v1/pay/" + "x" * 40, headers={"Accept": "application/json"})
    assert (answer.status_code, answer.json()["code"]) == (404, "pay_link_not_found")
    assert answer.headers["content-type"].startswith("application/problem+json")
    plain = await client.get("/v1/pay/" + "x" * 40)
    assert plain.headers["content-type"].startswith("application/problem+json")
    refused = await client.get("/v1/pay/short")
    assert refused.status_code == 422


async def test_a_lapsed_link_and_a_booking_no_longer_held_each_say_so(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    shop = await open_bookable_shop(client)
    someone = await customer(client)
    booked = await book(client, shop, someone, "2026-11-26T10:00:00+02:00")  # pay at the venue: confirmed
    booking_id = uuid.UUID(booked.json()["id"])

    lapsed = _path(settings, shop.business_id, booking_id, NOW - timedelta(minutes=1))
    page = await client.get(lapsed, headers=ARABIC)
    assert page.status_code == 410
    _is_page(page, "ar")
    assert "انتهت مهلة الدفع" in page.text
    posted = await client.post(f"{lapsed}?method=card", headers=BROWSER)
    assert posted.status_code == 410
    assert "The time to pay for this booking ran out" in posted.text
    assert (await client.get(lapsed)).json()["code"] == "pay_link_expired"

    standing = _path(settings, shop.business_id, booking_id, NOW + timedelta(minutes=10))
    page = await client.get(standing, headers=BROWSER)
    assert page.status_code == 409
    _is_page(page, "en")
    assert "no longer waits for a payment" in page.text
    assert 'href="/en/my"' in page.text
    unknown_method = await client.post(f"{standing}?method=bitcoin", headers=BROWSER)
    assert unknown_method.status_code == 422
    _is_page(unknown_method, "en")
    assert "Choose one of the payment methods shown on the page." in unknown_method.text
