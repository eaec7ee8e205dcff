"""A client that hangs up before its request body is read whole (wrk stopping at the end of
a run found it) is no error of ours: the request is logged and counted as 499, nothing
is written, and no 500 with a traceback pages the operator. In-process app (raw ASGI, so
the disconnect arrives exactly as uvicorn delivers it), real database."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import text

from booklnk.api.app import create_app
from booklnk.config import Settings
from booklnk.db.database import Database
from support import FakeClock

WEBHOOK = "/v1/webhooks/kashier"


async def test_a_webhook_cut_off_mid_body_is_logged_as_499_not_as_our_failure(
    db: Database, settings: Settings, clock: FakeClock
) -> None:
    app = create_app(settings, db, clock=clock)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": WEBHOOK,
        "raw_path": WEBHOOK.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", b"400"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    arriving = [
        {"type": "http.request", "body": b'{"event": "pay", "data": {"merchantOrd', "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, Any]:
        return arriving.pop(0) if arriving else {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async with db.engine.connect() as conn:
        before = (await conn.execute(text("SELECT count(*) FROM webhook_delivery"))).scalar_one()
    with structlog.testing.capture_logs() as logs:
        await app(scope, receive, send)

    events = [entry["event"] for entry in logs]
    assert "unhandled_error" not in events, logs
    assert "client_disconnected" in events
    (line,) = [entry for entry in logs if entry["event"] == "request"]
    assert (line["status"], line["problem"]) == (499, None)
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [499]
    async with db.engine.connect() as conn:
        after = (await conn.execute(text("SELECT count(*) FROM webhook_delivery"))).scalar_one()
    assert after == before
