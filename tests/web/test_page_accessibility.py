"""axe-core over every main page the browser flows do not already cross, in Arabic and
English at a phone's width: the owner's settings, the desk's week, room view, booking
panel and change of time, money, reports and customers, and the customer's receipt. Each
page must answer 200 and show no serious or critical finding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from browsing import PHONE, new_person, serious_violations
from playwright.async_api import Browser

from booklnk.demo.loader import CUSTOMER_EMAIL, DEMO_PASSWORD
from race_support import LiveServer


async def _tokens(http: httpx.AsyncClient, email: str) -> dict[str, Any]:
    answer = await http.post("/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    assert answer.status_code == 200, answer.text
    tokens: dict[str, Any] = answer.json()
    return tokens


async def _business_id(http: httpx.AsyncClient, tokens: dict[str, Any]) -> str:
    me = await http.get("/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    return str(me.json()["memberships"][0]["business_id"])


async def _a_booking(http: httpx.AsyncClient, customer: dict[str, Any], business_id: str) -> str:
    """The demo customer books the barbershop's first free time of the coming week."""
    services = (await http.get("/v1/public/businesses/cairo-cuts/services")).json()["items"]
    now = datetime.now(UTC)
    window = {
        "service_id": services[0]["id"],
        "from": now.isoformat(),
        "to": (now + timedelta(days=7)).isoformat(),
    }
    slots = (await http.get("/v1/public/businesses/cairo-cuts/availability", params=window)).json()["slots"]
    assert slots
    booked = await http.post(
        f"/v1/businesses/{business_id}/bookings",
        headers={"Authorization": f"Bearer {customer['access_token']}"},
        json={"service_id": services[0]["id"], "starts_at": slots[-1]["starts_at"]},
    )
    assert booked.status_code == 201, booked.text
    return str(booked.json()["id"])


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_the_remaining_main_pages_have_no_serious_accessibility_finding(
    site: LiveServer, browser: Browser, language: str
) -> None:
    async with httpx.AsyncClient(base_url=site.base_url, timeout=30) as http:
        barbers = await _tokens(http, "owner@cairo-cuts.demo")
        gym = await _tokens(http, "owner@zamalek-fit.demo")
        customer = await _tokens(http, CUSTOMER_EMAIL)
        shop_id, gym_id = await _business_id(http, barbers), await _business_id(http, gym)
        booking_id = await _a_booking(http, customer, shop_id)
    shop, classes = f"/{language}/desk/{shop_id}", f"/{language}/desk/{gym_id}"
    visits = [
        (barbers, f"{shop}/week"),
        (barbers, f"{shop}?by=room"),
        (barbers, f"{shop}/bookings/{booking_id}"),
        (barbers, f"{shop}/bookings/{booking_id}/reschedule"),
        (barbers, f"{shop}/settings/hours"),
        (barbers, f"{shop}/settings/rooms"),
        (barbers, f"{shop}/settings/rules"),
        (barbers, f"{shop}/settings/webhooks"),
        (barbers, f"{shop}/settings/team"),
        (barbers, f"{shop}/settings/services"),
        (barbers, f"{shop}/money"),
        (barbers, f"{shop}/reports"),
        (barbers, f"{shop}/customers"),
        (gym, f"{classes}/settings/classes"),
        (customer, f"/{language}/my/{shop_id}/{booking_id}/receipt"),
    ]
    findings: dict[str, list[str]] = {}
    for tokens, path in visits:
        person = await new_person(browser, PHONE, language)
        await person.add_cookies(
            [
                {"name": "bl_access", "value": tokens["access_token"], "url": site.base_url},
                {"name": "bl_refresh", "value": tokens["refresh_token"], "url": site.base_url},
            ]
        )
        page = await person.new_page()
        answer = await page.goto(f"{site.base_url}{path}")
        assert answer is not None
        assert answer.status == 200, (path, answer.status)
        if found := await serious_violations(page):
            findings[path] = found
        await person.close()
    assert findings == {}
