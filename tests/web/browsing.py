"""What the browser tests share: a fresh browser context per person (a phone or a desk),
signing in by a one-time code read from the outbox, and the accessibility check."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, BrowserContext, Page

from booklnk.notifications.simulators.sms import SmsStore
from mail_server import Mailbox

PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
WORDS = {
    "ar": {
        "book": "احجز",
        "confirmed": "مؤكد",
        "send": "أرسل الرمز",
        "verify": "دخول",
        "pay_book": "احجز وادفع",
    },
    "en": {
        "book": "Book",
        "confirmed": "Confirmed",
        "send": "Send the code",
        "verify": "Sign in",
        "pay_book": "Book and pay",
    },
}
CODE_SECONDS = 20
# axe-core's impacts that fail a page (WCAG 2.2 AA rules among them).
FAILING_IMPACTS = {"serious", "critical"}


async def new_person(browser: Browser, shape: dict[str, Any], language: str) -> BrowserContext:
    return await browser.new_context(**shape, locale="ar-EG" if language == "ar" else "en-GB")


@dataclass(frozen=True, slots=True)
class Inboxes:
    """Where a code can arrive: the suite's SMTP server and SMS gateway simulator (the
    worker sends it there, then erases it from the outbox)."""

    mailbox: Mailbox
    sms: SmsStore

    async def code_for(self, address: str) -> str:
        deadline = time.monotonic() + CODE_SECONDS
        while time.monotonic() < deadline:
            for text in self._texts(address):
                if found := re.search(r"\b([0-9]{6})\b", text):
                    return found.group(1)
            await asyncio.sleep(0.1)
        raise AssertionError(f"no code reached {address}")

    def _texts(self, address: str) -> list[str]:
        if "@" in address:
            mails = self.mailbox.messages(to=address)
            return [str(m.get_body(preferencelist=("plain",)).get_content()) for m in reversed(mails)]  # type: ignore[union-attr]
        return [sms.text for sms in self.sms.newest_first(to=address)]


async def sign_in_with_code(page: Page, inboxes: Inboxes, language: str, address: str) -> None:
    """On the sign-in page: the address, the code it was sent, and in."""
    await page.fill("#address", address)
    if address.startswith("+"):
        await page.check("input[name=channel][value=sms]")
    await page.get_by_role("button", name=WORDS[language]["send"]).click()
    await page.wait_for_selector("#code")
    await page.fill("#code", await inboxes.code_for(address))
    await page.get_by_role("button", name=WORDS[language]["verify"], exact=True).click()


async def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it stands."""
    results = await Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in FAILING_IMPACTS
    ]
