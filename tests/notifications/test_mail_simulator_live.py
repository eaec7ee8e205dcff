"""The demo's e-mail, end to end: `booklnk serve --worker --mail-sim` takes a registration,
its worker sends the code over SMTP to the mail simulator, whose inbox shows it; the code
read there makes the account. This is what a developer does by hand (README)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from race_support import LiveServer, free_port, server_env, stop_server, wait_until_ready

pytestmark = pytest.mark.live

WAIT_SECONDS = 60.0


@dataclass
class Served:
    server: LiveServer
    inbox_url: str


@pytest.fixture
def live_server(database_url: str, tmp_path: Path) -> Iterator[Served]:
    port, inbox_port = free_port(), free_port()
    env = {
        **server_env(database_url),
        "BOOKLNK_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "BOOKLNK_SMTP_PORT": str(free_port()),
    }
    command = [
        *(sys.executable, "-m", "booklnk.cli", "serve", "--worker", "--mail-sim"),
        *("--port", str(port), "--mail-sim-port", str(inbox_port)),
    ]
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = LiveServer(process, f"http://127.0.0.1:{port}", log_path)
    try:
        wait_until_ready(server, 1)
        yield Served(server, f"http://127.0.0.1:{inbox_port}")
    finally:
        stop_server(server)


def _inbox(url: str, to: str) -> list[dict[str, object]]:
    try:
        found = httpx.get(f"{url}/messages", params={"to": to}, timeout=2)
    except httpx.HTTPError:
        return []
    return list(found.json()) if found.status_code == 200 else []


def test_a_registration_code_reaches_the_inbox_and_makes_the_account(live_server: Served) -> None:
    email = "demo-reader@example.com"
    base = live_server.server.base_url
    body = {"email": email, "language": "ar"}
    assert httpx.post(f"{base}/v1/auth/register", json=body, timeout=10).status_code == 202
    deadline = time.monotonic() + WAIT_SECONDS
    while not (mail := _inbox(live_server.inbox_url, email)):
        assert time.monotonic() < deadline, live_server.server.log_tail()
        time.sleep(0.3)
    [message] = mail
    code = re.search(r"\b(\d{6})\b", str(message["text"]))
    assert code is not None, message
    assert message["language"] == "ar"
    page = httpx.get(f"{live_server.inbox_url}/", timeout=5)
    assert code.group(1) in page.text
    verified = httpx.post(
        f"{base}/v1/auth/register/verify",
        json={"email": email, "code": code.group(1), "password": "a-long-password", "full_name": "Demo"},
        timeout=10,
    )
    assert verified.status_code == 201, verified.text
