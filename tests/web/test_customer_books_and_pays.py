"""A customer on a phone books a consultation at the demo's Nile Advisory and pays its
deposit by card on the Kashier simulator's hosted page, in Arabic and in English: from
the business page, through the time picker, signing in by a one-time code and the
booking's questions, to the status page that follows the booking until the webhook
(applied by the worker) confirms it. Every page on the way passes axe-core."""

from __future__ import annotations

import pytest
from browsing import PHONE, WORDS, Inboxes, new_person, serious_violations, sign_in_with_code
from playwright.async_api import Browser, expect

from booklnk.notifications.simulators.sms import SmsStore
from mail_server import Mailbox
from race_support import LiveServer

# The demo customer: her number is proven (the Arabic run signs in by SMS code), and her
# e-mail works as well (the English run).
ADDRESSES = {"ar": "+201000000001", "en": "customer@booklnk.demo"}


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_a_customer_books_and_pays_by_card_and_sees_it_confirmed(
    site: LiveServer, browser: Browser, mailbox: Mailbox, sms_gateway: SmsStore, language: str
) -> None:
    person = await new_person(browser, PHONE, language)
    page = await person.new_page()
    findings: dict[str, list[str]] = {}

    await page.goto(f"{site.base_url}/{language}/b/nile-advisory")
    assert await page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    findings["business"] = await serious_violations(page)
    await page.get_by_role("link", name=f"{WORDS[language]['book']}: Strategy session").click()

    await page.wait_for_selector(".times a")
    findings["times"] = await serious_violations(page)
    await page.locator(".times a").first.click()

    # Not signed in yet: the sign-in page, then back to the booking's summary.
    await page.wait_for_selector("#address")
    findings["sign-in"] = await serious_violations(page)
    await sign_in_with_code(page, Inboxes(mailbox, sms_gateway), language, ADDRESSES[language])
    await page.wait_for_selector("#q_topic")
    findings["summary"] = await serious_violations(page)
    await page.fill("#q_topic", "توسع الشركة" if language == "ar" else "Growing the company")
    await page.get_by_role("button", name=WORDS[language]["pay_book"]).click()

    # Kashier's hosted page (the simulator's), then back through the signed redirect.
    await page.get_by_role("button", name="Pay", exact=True).click()
    await page.wait_for_url(f"{site.base_url}/{language}/my/**", timeout=15_000)
    status = page.locator("#status .status")
    await expect(status).to_have_text(WORDS[language]["confirmed"], timeout=30_000)
    findings["status"] = await serious_violations(page)

    await page.goto(f"{site.base_url}/{language}/my")
    await expect(page.locator(".list .status").first).to_have_text(WORDS[language]["confirmed"])
    findings["my bookings"] = await serious_violations(page)
    await person.close()
    assert {name: found for name, found in findings.items() if found} == {}
