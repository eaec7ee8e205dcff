"""A calendar feed's URL is its credential: the token in its path never reaches a log
line, whether the feed answers, is unknown, or the database is down."""

from __future__ import annotations

import io
import json
import socket

import httpx
import pytest
from sqlalchemy import make_url

from booking_support import open_bookable_shop
from booklnk.api.app import create_app
from booklnk.api.redaction import redacted
from booklnk.config import Settings
from booklnk.db.database import Database
from support import FakeClock

FEEDS = "/v1/calendar-feeds/"


def _requests(stream: io.StringIO) -> list[dict[str, object]]:
    return [line for line in map(json.loads, stream.getvalue().splitlines()) if line["event"] == "request"]


async def test_a_feeds_token_is_not_logged(
    client: httpx.AsyncClient, settings: Settings, log_stream: io.StringIO
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    issued = await client.post(
        f"{shop.url}/staff/{shop.staff_ids[0]}/calendar-feed", headers=shop.owner.headers
    )
    assert issued.status_code == 201, issued.text
    token = issued.json()["url"].removeprefix(f"{settings.public_base_url}{FEEDS}").removesuffix(".ics")
    assert (await client.get(f"{FEEDS}{token}.ics")).status_code == 200
    unknown = "guessed-0123456789abcdefghijklmnopqrstuv"
    assert (await client.get(f"{FEEDS}{unknown}.ics")).status_code == 404
    logged = log_stream.getvalue()
    assert token not in logged
    assert unknown not in logged
    feeds = [(line["path"], line["status"]) for line in _requests(log_stream) if FEEDS in str(line["path"])]
    assert feeds == [(f"{FEEDS}[redacted]", 200), (f"{FEEDS}[redacted]", 404)]


async def test_nor_while_the_database_is_down(
    database_url: str, settings: Settings, clock: FakeClock, log_stream: io.StringIO
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    db = Database(
        make_url(database_url).set(port=port).render_as_string(hide_password=False),
        app_role=settings.db_app_role,
        pool_size=1,
    )
    transport = httpx.ASGITransport(app=create_app(settings, db, clock=clock), raise_app_exceptions=False)
    secret = "feed-token-while-down-0123456789abcdef"
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        assert (await http.get(f"{FEEDS}{secret}.ics")).status_code == 503
    await db.dispose()
    logged = log_stream.getvalue()
    assert "database_unavailable" in logged
    assert secret not in logged


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/v1/calendar-feeds/abc.ics", "/v1/calendar-feeds/[redacted]"),
        ("/v1/calendar-feeds/abc", "/v1/calendar-feeds/[redacted]"),
        ("/v1/calendar-feeds/a/b/c.ics", "/v1/calendar-feeds/[redacted]"),
        ("/v1/calendar-feeds/", "/v1/calendar-feeds/"),
        ("/v1/pay/AAAAsealedtoken", "/v1/pay/[redacted]"),
        ("/v1/businesses/1/bookings", "/v1/businesses/1/bookings"),
        ("/V1/calendar-feeds/abc.ics", "/V1/calendar-feeds/abc.ics"),  # not a route: 404, no secret
    ],
)
def test_what_is_redacted(path: str, logged: str) -> None:
    assert redacted(path) == logged
