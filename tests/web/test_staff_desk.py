"""A barber at the front desk, in Arabic and in English: a demo staff account (not the
owner) signs in by e-mail code, opens the day, checks in a customer whose booking has
started, marks another who never came as a no-show, and on a booking that starts later
is not offered the no-show but told, in the page's language, from when it can be marked;
axe-core finds nothing serious on the day, the panels and the change-time page.

The bookings are made over HTTP against the live server in the test's set-up, on the real
clock: Cairo Cuts and the barber are opened all week, all day (the test runs at any hour),
and three of the barber's next free times are booked through the API as a desk would. A
start in the past is refused by every API (422 `in_past`) and a walk-in is born checked in,
so the two bookings that must have started are then moved back in the database, with
their time on the barber's lane: the one step no user could take."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from browsing import DESKTOP, Inboxes, new_person, serious_violations, sign_in_with_code
from playwright.async_api import Browser, Page, expect
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.demo.loader import DEMO_PASSWORD
from booklnk.notifications.simulators.sms import SmsStore
from mail_server import Mailbox
from race_support import ALL_WEEK, LiveServer

CAIRO = ZoneInfo("Africa/Cairo")
SLUG = "cairo-cuts"
OWNER = "owner@cairo-cuts.demo"
# One barber per language, and the no-show's booking hours apart: the two runs share the
# shop's chairs, and neither may take the other's time.
BARBER = {"ar": ("karim@cairo-cuts.demo", "Karim", 75), "en": ("omar@cairo-cuts.demo", "Omar", 150)}
WORDS = {
    "ar": {
        "check_in": "وصل",
        "no_show": "لم يحضر",
        "checked_in": "وصل",
        "marked": "لم يحضر",
        "refusal": "لا يمكن تسجيل عدم الحضور قبل الساعة",
        "change_time": "غيّر الموعد",
    },
    "en": {
        "check_in": "Check in",
        "no_show": "No-show",
        "checked_in": "Checked in",
        "marked": "No-show",
        "refusal": "A no-show can be marked only from",
        "change_time": "Change the time",
    },
}


@dataclass(frozen=True, slots=True)
class Desk:
    business_id: str
    started: str  # began five minutes ago, confirmed: to check in
    missed: str  # began over an hour ago, nobody came: to mark a no-show
    later: str  # starts later: no no-show yet
    days: dict[str, date]  # each booking's local date (the day view it is on)
    names: dict[str, str]  # each booking's guest name (what its block on the day shows)


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_a_barber_checks_in_marks_a_no_show_and_is_told_when_a_no_show_is_too_early(
    site: LiveServer,
    browser: Browser,
    mailbox: Mailbox,
    sms_gateway: SmsStore,
    owner_engine: AsyncEngine,
    language: str,
) -> None:
    email = BARBER[language][0]
    desk = await _bookings(site, owner_engine, language)
    words = WORDS[language]
    person = await new_person(browser, DESKTOP, language)
    page = await person.new_page()
    findings: dict[str, list[str]] = {}

    await page.goto(f"{site.base_url}/{language}/sign-in?next=/{language}/desk")
    await sign_in_with_code(page, Inboxes(mailbox, sms_gateway), language, email)
    await page.locator(f"a[href='/{language}/desk/{desk.business_id}']").click()
    await expect(page.locator(".day")).to_be_visible()

    await _open(page, site, language, desk, "started", findings=findings)
    findings["panel, started"] = await serious_violations(page)
    await page.get_by_role("button", name=words["check_in"], exact=True).click()
    await expect(page.locator(".status")).to_have_text(words["checked_in"])
    await expect(page.get_by_role("status")).to_be_visible()

    await _open(page, site, language, desk, "missed")
    await page.get_by_role("button", name=words["no_show"], exact=True).click()
    await expect(page.locator(".status")).to_have_text(words["marked"])

    await _open(page, site, language, desk, "later")
    await expect(page.get_by_role("button", name=words["no_show"], exact=True)).to_have_count(0)
    await expect(page.get_by_text(words["refusal"])).to_be_visible()
    findings["panel, later"] = await serious_violations(page)
    await page.get_by_role("link", name=words["change_time"]).click()
    await expect(page.locator("#day")).to_be_visible()
    findings["change time"] = await serious_violations(page)
    await person.close()
    assert {where: found for where, found in findings.items() if found} == {}


async def _open(
    page: Page,
    site: LiveServer,
    language: str,
    desk: Desk,
    which: str,
    *,
    findings: dict[str, list[str]] | None = None,
) -> None:
    """The desk's day the booking is on, then its block (a tap, as at the desk)."""
    day = desk.days[which].isoformat()
    await page.goto(f"{site.base_url}/{language}/desk/{desk.business_id}?on={day}")
    block = page.locator("a.block").filter(has_text=desk.names[which])
    await expect(block).to_have_count(1)
    if findings is not None:
        findings["day"] = await serious_violations(page)
    await block.click()
    await page.wait_for_url(f"**/bookings/{getattr(desk, which)}")


async def _bookings(site: LiveServer, engine: AsyncEngine, language: str) -> Desk:
    """The shop and the barber open around the clock, a service of the barber's own (no chair:
    two runs' bookings moved near now never meet on a chair), and the three bookings."""
    email, barber, minutes_back = BARBER[language]
    tag = uuid.uuid4().hex[:6]
    names = {which: f"{which.capitalize()} {tag}" for which in ("later", "missed", "started")}
    async with httpx.AsyncClient(base_url=site.base_url, timeout=30) as http:
        owner = await _token(http, OWNER)
        staff = await _token(http, email)
        business_id = (await _call(http, None, "GET", f"/v1/public/businesses/{SLUG}"))["id"]
        url = f"/v1/businesses/{business_id}"
        members = (await _call(http, owner, "GET", f"{url}/staff"))["items"]
        staff_id = next(m["id"] for m in members if m["display_name"] == barber)
        await _call(http, owner, "PUT", f"{url}/weekly-schedule", json=ALL_WEEK)
        await _call(http, owner, "PUT", f"{url}/staff/{staff_id}/weekly-schedule", json=ALL_WEEK)
        service = {
            "name": f"Quick trim {tag}",
            "price_minor": 5000,
            "duration_options_minutes": [30],
            "staff_ids": [staff_id],
        }
        service_id = (await _call(http, owner, "POST", f"{url}/services", json=service))["id"]
        window = {
            "service_id": service_id,
            "staff_id": staff_id,
            "from": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            "to": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
        }
        booked = {}
        for which, name in names.items():  # each takes the barber's next free time
            slots = (await _call(http, staff, "GET", f"{url}/availability", params=window))["slots"]
            body = {"service_id": service_id, "staff_id": staff_id, "starts_at": slots[0]["starts_at"]}
            booked[which] = await _call(
                http, staff, "POST", f"{url}/bookings", json=body | {"guest_name": name}
            )
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    starts = {
        "later": datetime.fromisoformat(booked["later"]["starts_at"]),
        "missed": now - timedelta(minutes=minutes_back),
        "started": now - timedelta(minutes=5),
    }
    for which in ("missed", "started"):
        await _move_back(
            engine, booked[which]["id"], datetime.fromisoformat(booked[which]["starts_at"]), starts[which]
        )
    return Desk(
        str(business_id),
        booked["started"]["id"],
        booked["missed"]["id"],
        booked["later"]["id"],
        {which: at.astimezone(CAIRO).date() for which, at in starts.items()},
        names,
    )


async def _move_back(engine: AsyncEngine, booking_id: str, was: datetime, to: datetime) -> None:
    """The booking and its time on the barber's and the chair's lanes, moved together."""
    shift = {"id": booking_id, "by": to - was}
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE booking SET starts_at = starts_at + :by, ends_at = ends_at + :by WHERE id = :id"),
            shift,
        )
        await conn.execute(
            text(
                "UPDATE allocation SET period = tstzrange(lower(period) + :by, upper(period) + :by, '[)')"
                " WHERE booking_id = :id"
            ),
            shift,
        )


async def _token(http: httpx.AsyncClient, email: str) -> str:
    signed = await _call(
        http, None, "POST", "/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD}
    )
    return str(signed["access_token"])


async def _call(http: httpx.AsyncClient, token: str | None, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answered = await http.request(method, path, headers=headers, **kwargs)
    assert answered.status_code in (200, 201), f"{method} {path}: {answered.status_code} {answered.text}"
    return answered.json()
