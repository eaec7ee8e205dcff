"""Over a real server (`booklnk serve`: uvicorn and the app's logging as deployed), a
calendar feed's token appears nowhere in the process's output."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from booking_support import open_bookable_shop
from race_support import LiveServer, start_server, stop_server


@pytest.fixture(scope="module")
def live_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(database_url, Path(tmp_path_factory.mktemp("redaction")) / "server.log", workers=1)
    try:
        yield server
    finally:
        stop_server(server)


async def test_the_servers_output_never_holds_a_feed_token(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as client:
        shop = await open_bookable_shop(client, barbers=1)
        issued = await client.post(
            f"{shop.url}/staff/{shop.staff_ids[0]}/calendar-feed", headers=shop.owner.headers
        )
        assert issued.status_code == 201, issued.text
        url = issued.json()["url"]
        token = url.rsplit("/", 1)[1].removesuffix(".ics")
        assert (await client.get(url)).status_code == 200
        guessed = "guessed-token-0123456789abcdefghijklmn"
        assert (await client.get(f"/v1/calendar-feeds/{guessed}.ics")).status_code == 404
        assert (await client.get("/healthz")).status_code == 200  # a line after them
    output = live_server.log_path.read_text(errors="replace")
    assert "/v1/calendar-feeds/[redacted]" in output
    assert token not in output
    assert guessed not in output
