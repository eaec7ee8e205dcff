"""A new customer signs up by mobile number from the booking flow (in-process, no browser):
number, then the code sent to it and a name, then signed in and back on the booking
summary they were looking at; in Arabic and in English. A number that has no account,
typed on the sign-in page, is shown the way to sign up."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from web_forms import csrf_of

from booking_support import open_bookable_shop
from booklnk.web.words import WORDS
from support import OUTBOX

PHONE = "+201001234567"
START = "2026-11-25T10:00:00+02:00"  # the suite's clock: Tuesday 2026-11-24 11:00 Cairo


async def _summary_path(client: httpx.AsyncClient, language: str) -> str:
    shop = await open_bookable_shop(client)
    slug = (await client.get(shop.url, headers=shop.owner.headers)).json()["slug"]
    return f"/{language}/b/{slug}/s/{shop.service_id}/book?start={quote(START)}"


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_a_new_customer_signs_up_by_phone_and_lands_back_on_the_booking_summary(
    client: httpx.AsyncClient, owner_engine: AsyncEngine, language: str
) -> None:
    words = WORDS[language]
    summary = await _summary_path(client, language)
    asked = await client.get(summary)
    assert asked.status_code == 303
    sign_in = await client.get(asked.headers["location"])
    link = re.search(r'href="(/[a-z]{2}/sign-up\?next=[^"]+)"', sign_in.text)
    assert link is not None
    page = await client.get(link.group(1).replace("&amp;", "&"))
    assert page.status_code == 200
    # The number first (most customers book on a phone), the e-mail after it.
    assert page.text.index('name="phone"') < page.text.index('name="email"')
    assert words["sign_up_by_phone"] in page.text
    next_path = re.search(r'name="next" value="([^"]+)"', page.text)
    assert next_path is not None
    assert next_path.group(1).replace("&amp;", "&") == summary
    token = await csrf_of(client, f"/{language}/sign-up")

    sent = await client.post(
        f"/{language}/sign-up",
        data={"csrf": token, "phone": "010 0123 4567", "channel": "whatsapp", "next": summary},
    )
    assert sent.status_code == 200, sent.text
    assert words["phone_code_on_its_way"] in sent.text
    assert f'name="phone" value="{PHONE}"' in sent.text
    assert 'name="password"' not in sent.text
    code = OUTBOX.code(PHONE)
    assert code is not None

    wrong = "000000" if code != "000000" else "111111"
    refused = await client.post(
        f"/{language}/sign-up/code",
        data={"csrf": token, "phone": PHONE, "code": wrong, "full_name": "منى", "next": summary},
    )
    assert refused.status_code == 422
    assert 'aria-invalid="true" aria-describedby="code-error"' in refused.text
    assert "منى" in refused.text  # the name typed stays

    made = await client.post(
        f"/{language}/sign-up/code",
        data={"csrf": token, "phone": PHONE, "code": code, "full_name": "منى عادل", "next": summary},
    )
    assert made.status_code == 303, made.text
    assert made.headers["location"] == summary
    back = await client.get(summary)
    assert back.status_code == 200, back.text
    assert words["summary"] in back.text
    assert words["confirm_booking"] in back.text
    async with owner_engine.connect() as conn:
        stored = await conn.execute(
            text("SELECT email, full_name, password_hash FROM app_user WHERE phone = :p"), {"p": PHONE}
        )
        assert stored.one() == (None, "منى عادل", None)


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_a_number_on_the_sign_in_page_is_shown_the_way_to_sign_up(
    client: httpx.AsyncClient, language: str
) -> None:
    words = WORDS[language]
    token = await csrf_of(client, f"/{language}/sign-in")
    next_path = f"/{language}/my"
    sent = await client.post(
        f"/{language}/sign-in", data={"csrf": token, "address": "01001234567", "next": next_path}
    )
    assert sent.status_code == 200
    assert words["sign_up_with_number"] in sent.text
    link = re.search(r'href="(/[a-z]{2}/sign-up\?[^"]+)"', sent.text)
    assert link is not None
    page = await client.get(link.group(1).replace("&amp;", "&"))
    assert f'value="{PHONE}"' in page.text
    assert f'name="next" value="{next_path}"' in page.text


async def test_an_email_sign_up_still_asks_a_password(client: httpx.AsyncClient) -> None:
    token = await csrf_of(client, "/en/sign-up")
    sent = await client.post("/en/sign-up", data={"csrf": token, "email": "nour@example.com", "next": "/en/"})
    assert sent.status_code == 200
    assert 'name="password"' in sent.text
    made = await client.post(
        "/en/sign-up/code",
        data={
            "csrf": token,
            "email": "nour@example.com",
            "code": OUTBOX.code("nour@example.com") or "",
            "full_name": "Nour",
            "password": "a long passphrase",
            "next": "/en/my",
        },
    )
    assert (made.status_code, made.headers["location"]) == (303, "/en/my")


async def test_a_bad_number_is_named_on_the_phone_form(client: httpx.AsyncClient) -> None:
    token = await csrf_of(client, "/ar/sign-up")
    refused = await client.post("/ar/sign-up", data={"csrf": token, "phone": "0223456789", "next": "/ar/"})
    assert refused.status_code == 422
    assert 'id="phone" name="phone"' in refused.text
    assert 'aria-describedby="phone-error"' in refused.text
