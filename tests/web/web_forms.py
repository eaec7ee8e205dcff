"""Driving the web app's forms in-process: a signed-in browser's cookies and a page's CSRF
token, for tests that post forms without a browser."""

from __future__ import annotations

import re

import httpx

from support import Account


def signed_in(client: httpx.AsyncClient, account: Account) -> None:
    """The browser's session cookies, as the web app's sign-in sets them (the access token
    renewed by the refresh token when the clock has moved past it)."""
    client.cookies.set("bl_access", account.headers["Authorization"].removeprefix("Bearer "))
    client.cookies.set("bl_refresh", account.refresh_token)


async def csrf_of(client: httpx.AsyncClient, path: str) -> str:
    """The CSRF token of the page at `path` (which must answer 200)."""
    page = await client.get(path)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)
