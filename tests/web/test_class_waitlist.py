"""A gym customer on a phone, in Arabic and in English: a full class offers its waitlist,
she joins it, the seat's holder cancels, the worker gives her the freed seat (held for
its payment, the gym being prepaid), and she pays it on the Kashier simulator's page from
her bookings until it is confirmed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from browsing import PHONE, WORDS, Inboxes, new_person, serious_violations, sign_in_with_code
from playwright.async_api import Browser, expect

from booklnk.demo.loader import DEMO_PASSWORD
from booklnk.notifications.simulators.sms import SmsStore
from mail_server import Mailbox
from race_support import LiveServer

LABELS = {
    "ar": {
        "waitlist": "انضم إلى قائمة الانتظار",
        "place": "أنت رقم 1",
        "held": "بانتظار الدفع",
        "pay": "ادفع الآن: بطاقة بنكية",
    },
    "en": {
        "waitlist": "Join the waitlist",
        "place": "You are number 1",
        "held": "Awaiting payment",
        "pay": "Pay now: Card",
    },
}


async def _log_in(http: httpx.AsyncClient, email: str) -> dict[str, str]:
    answer = await http.post("/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def _full_class(http: httpx.AsyncClient, index: int) -> tuple[str, str, dict[str, str], str]:
    """A HIIT session of the demo gym made one seat, taken (held) by the demo admin."""
    owner = await _log_in(http, "owner@zamalek-fit.demo")
    me = (await http.get("/v1/me", headers=owner)).json()
    business_id = next(m["business_id"] for m in me["memberships"] if m["business_slug"] == "zamalek-fit")
    base = f"/v1/businesses/{business_id}"
    now = datetime.now(UTC)
    window = {"from": (now + timedelta(days=1)).isoformat(), "to": (now + timedelta(days=20)).isoformat()}
    found: list[dict[str, Any]] = (
        await http.get(f"{base}/class-sessions", params=window, headers=owner)
    ).json()["items"]
    session = [s for s in found if s["seats_taken"] == 0][index]
    made_small = await http.patch(
        f"{base}/class-sessions/{session['id']}", json={"capacity": 1}, headers=owner
    )
    assert made_small.status_code == 200, made_small.text
    holder = await _log_in(http, "admin@booklnk.demo")
    seat = await http.post(
        f"{base}/class-sessions/{session['id']}/bookings", json={"payment_method": "card"}, headers=holder
    )
    assert seat.status_code == 201, seat.text
    return business_id, session["id"], holder, seat.json()["id"]


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_a_full_class_waitlists_her_then_promotes_her_and_she_pays(
    site: LiveServer, browser: Browser, mailbox: Mailbox, sms_gateway: SmsStore, language: str
) -> None:
    async with httpx.AsyncClient(base_url=site.base_url, timeout=30) as http:
        business_id, session_id, holder, holder_booking = await _full_class(
            http, 0 if language == "ar" else 1
        )
        person = await new_person(browser, PHONE, language)
        page = await person.new_page()
        findings: dict[str, list[str]] = {}

        await page.goto(f"{site.base_url}/{language}/b/zamalek-fit/c/{session_id}")
        await sign_in_with_code(page, Inboxes(mailbox, sms_gateway), language, "customer@booklnk.demo")
        join = page.get_by_role("button", name=LABELS[language]["waitlist"])
        await expect(join).to_be_visible()
        findings["seat"] = await serious_violations(page)
        await join.click()
        await expect(page.get_by_role("status")).to_contain_text(LABELS[language]["place"])
        findings["waitlisted"] = await serious_violations(page)

        cancelled = await http.post(
            f"/v1/businesses/{business_id}/bookings/{holder_booking}/cancel", headers=holder
        )
        assert cancelled.status_code == 200, cancelled.text

        # The worker promotes her: the seat shows in her bookings, held for its payment.
        promoted = page.locator(".list li", has=page.locator(".status.held")).locator(
            f"a[href*='/my/{business_id}/']"
        )
        for _ in range(60):
            await page.goto(f"{site.base_url}/{language}/my")
            if await promoted.count():
                break
            await page.wait_for_timeout(500)
        await promoted.first.click()
        await expect(page.locator("#status .status")).to_have_text(LABELS[language]["held"])
        await page.get_by_role("button", name=LABELS[language]["pay"]).click()
        await page.get_by_role("button", name="Pay", exact=True).click()
        await expect(page.locator("#status .status")).to_have_text(
            WORDS[language]["confirmed"], timeout=30_000
        )
        await person.close()
        assert {name: found for name, found in findings.items() if found} == {}
