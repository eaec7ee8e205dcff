"""Body limits over a real server (`booklnk serve`, uvicorn): a client that announces
100 MB and sends nothing, or streams chunks without end, is answered 413 at the limit,
never waited on. Each request goes over a raw socket, so nothing buffers the body."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from race_support import LiveServer, start_server, stop_server

# A bound on a wrong answer (the server waiting for the rest of the body), not a timing
# assertion: the right answer comes as soon as the headers or the 17th chunk arrive.
NO_ANSWER_SECONDS = 30


@pytest.fixture(scope="module")
def live_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(database_url, Path(tmp_path_factory.mktemp("limits")) / "server.log", workers=1)
    try:
        yield server
    finally:
        stop_server(server)


async def _exchange(server: LiveServer, head: str, chunks: list[bytes]) -> tuple[int, dict[str, object]]:
    """Send `head` and `chunks` (never finishing the body), then read the answer."""
    address = urlsplit(server.base_url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    try:
        writer.write(head.encode())
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
        answer = await asyncio.wait_for(reader.read(), NO_ANSWER_SECONDS)  # the server closes
    finally:
        writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    body = rest.partition(b"\r\n\r\n")[2]
    return int(status_line.split()[1]), json.loads(body)


async def test_a_webhook_announcing_100_mb_is_answered_413_without_its_body(live_server: LiveServer) -> None:
    head = (
        "POST /v1/webhooks/kashier HTTP/1.1\r\nHost: booklnk\r\n"
        f"Content-Type: application/json\r\nContent-Length: {100 * 1024 * 1024}\r\n\r\n"
    )
    status, problem = await _exchange(live_server, head, [])
    assert (status, problem["code"], problem["limit"]) == (413, "body_too_large", 16 * 1024)


async def test_a_chunked_body_without_end_is_cut_at_the_limit(live_server: LiveServer) -> None:
    head = (
        "POST /v1/auth/register HTTP/1.1\r\nHost: booklnk\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"400\r\n" + b"x" * 1024 + b"\r\n"  # 1 KB chunks, and never the last (empty) one
    status, problem = await _exchange(live_server, head, [chunk] * 65)
    assert (status, problem["code"], problem["limit"]) == (413, "body_too_large", 64 * 1024)
