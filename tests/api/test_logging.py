"""Structured logs: one JSON line per request with its id, and no secrets."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from booklnk.logging import configure_logging


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging(json=True, stream=stream)
    yield stream
    root.handlers, root.level = handlers, level


async def test_request_lines_are_json_with_request_id_and_no_secrets(
    client: httpx.AsyncClient, log_stream: io.StringIO
) -> None:
    password = "very-secret-password-123"
    await client.post(
        "/v1/auth/register", json={"email": "l@example.com", "password": password, "full_name": "L"}
    )
    login = await client.post(
        "/v1/auth/login",
        json={"email": "l@example.com", "password": password},
        headers={"X-Request-ID": "a" * 32},
    )
    err = log_stream.getvalue()
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    login_line = next(line for line in lines if line.get("path") == "/v1/auth/login")
    assert login_line["request_id"] == "a" * 32
    assert login_line["status"] == 200
    for secret in (password, login.json()["access_token"], login.json()["refresh_token"]):
        assert secret not in err
