"""Behind HTTPS the session's cookies are `__Host-` cookies (Secure, the whole site's path,
no Domain: no sibling subdomain can set or shadow them), and signing out removes them with
the same attributes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from web_forms import csrf_of

from booking_support import customer
from booklnk.api.app import create_app
from booklnk.config import Settings
from booklnk.db.database import Database
from support import FakeClock, code_sent_to


@pytest.fixture
async def over_https(db: Database, settings: Settings, clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    served = settings.model_copy(update={"public_base_url": "https://book.example"})
    transport = httpx.ASGITransport(app=create_app(served, db, clock=clock), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        yield http


def _set(response: httpx.Response, name: str) -> str:
    (found,) = [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{name}=")]
    return found


async def test_the_session_lives_in_host_prefixed_secure_cookies(over_https: httpx.AsyncClient) -> None:
    someone = await customer(over_https)
    form = await over_https.get("/en/sign-in")
    assert "Secure" in _set(form, "__Host-bl_csrf")
    token = await csrf_of(over_https, "/en/sign-in")
    sent = await over_https.post(
        "/en/sign-in", data={"csrf": token, "address": someone.email, "next": "/en/my"}
    )
    assert sent.status_code == 200
    code = await code_sent_to(someone.email)
    signed = await over_https.post(
        "/en/sign-in/code", data={"csrf": token, "address": someone.email, "code": code, "next": "/en/my"}
    )
    assert signed.status_code == 303
    for name in ("__Host-bl_access", "__Host-bl_refresh"):
        cookie = _set(signed, name)
        assert all(part in cookie for part in ("Secure", "HttpOnly", "Path=/", "SameSite=lax"))
        assert "Domain" not in cookie
    assert (await over_https.get("/en/my")).status_code == 200

    out = await over_https.post("/en/sign-out", data={"csrf": token})
    assert out.status_code == 303
    for name in ("__Host-bl_access", "__Host-bl_refresh"):
        assert all(part in _set(out, name) for part in ("Max-Age=0", "Secure", "Path=/"))
    assert (await over_https.get("/en/my")).status_code == 303
