"""The demo's messages, end to end: `booklnk serve --worker --messages-sim` takes a
registration, its worker sends the code over SMTP to the messages simulator, whose inbox
shows it; the code read there makes the account. A number is proven by a code sent over
WhatsApp's Cloud API and signs in by one sent over Cequens' SMS API; the providers' signed
reports come back over HTTP and are kept. This is what a developer does by hand (README)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from race_support import LiveServer, free_port, server_env, stop_server, wait_until_ready

pytestmark = pytest.mark.live

WAIT_SECONDS = 60.0


@dataclass
class Served:
    server: LiveServer
    inbox_url: str
    database_url: str


@pytest.fixture
def live_server(database_url: str, tmp_path: Path) -> Iterator[Served]:
    port, inbox_port = free_port(), free_port()
    env = {
        **server_env(database_url),
        "BOOKLNK_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "BOOKLNK_SMTP_PORT": str(free_port()),
        # (The suite's own simulators are in the environment: this server uses its child's.)
        "BOOKLNK_CEQUENS_API_URL": f"http://127.0.0.1:{inbox_port}/cequens",
        "BOOKLNK_WHATSAPP_API_URL": f"http://127.0.0.1:{inbox_port}/whatsapp",
    }
    command = [
        *(sys.executable, "-m", "booklnk.cli", "serve", "--worker", "--messages-sim"),
        *("--port", str(port), "--messages-sim-port", str(inbox_port)),
    ]
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = LiveServer(process, f"http://127.0.0.1:{port}", log_path)
    try:
        wait_until_ready(server, 1)
        yield Served(server, f"http://127.0.0.1:{inbox_port}", database_url)
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


def _eventually(live: Served, found: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while not (value := found()):
        assert time.monotonic() < deadline, live.server.log_tail()
        time.sleep(0.3)
    return value


def _sent(url: str, to: str) -> list[dict[str, Any]]:
    try:
        found = httpx.get(f"{url}/__sim/messages", params={"to": to}, timeout=2)
    except httpx.HTTPError:
        return []
    return list(found.json()) if found.status_code == 200 else []


def _delivery_status(database_url: str, address: str, template: str) -> str | None:
    plain = database_url.replace("postgresql+asyncpg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        row = conn.execute(
            "SELECT delivery_status FROM outbox_message WHERE address = %s AND template = %s"
            " ORDER BY seq DESC LIMIT 1",
            (address, template),
        ).fetchone()
    return None if row is None else str(row[0])


def test_a_number_is_proven_over_whatsapp_and_signs_in_over_sms(live_server: Served) -> None:
    base, phone = live_server.server.base_url, "+201001234567"
    email = "texted@example.com"
    httpx.post(f"{base}/v1/auth/register", json={"email": email}, timeout=10)
    [mail] = _eventually(live_server, lambda: _inbox(live_server.inbox_url, email))
    code = re.search(r"\b(\d{6})\b", str(mail["text"]))
    assert code is not None
    proof = {"email": email, "code": code.group(1), "password": "a-long-password", "full_name": "Texted"}
    tokens = httpx.post(f"{base}/v1/auth/register/verify", json=proof, timeout=10).json()
    me = {"Authorization": f"Bearer {tokens['access_token']}"}

    asked = httpx.post(f"{base}/v1/me/phone", json={"phone": "01001234567"}, headers=me, timeout=10)
    assert asked.json()["channel"] == "whatsapp", asked.text
    whatsapp = f"{live_server.inbox_url}/whatsapp"
    [texted] = _eventually(live_server, lambda: _sent(whatsapp, phone))
    assert texted["template"] == "booklnk_phone_verification_code"
    code_sent = texted["parameters"]["code"]
    proven = httpx.post(
        f"{base}/v1/me/phone/verify", json={"phone": phone, "code": code_sent}, headers=me, timeout=10
    )
    assert proven.json()["phone"] == phone, proven.text
    # Meta's signed status webhooks came back to the app and were kept.
    _eventually(
        live_server,
        lambda: _delivery_status(live_server.database_url, phone, "phone_verification_code") == "delivered",
    )

    httpx.post(f"{base}/v1/auth/code", json={"phone": phone, "channel": "sms"}, timeout=10)
    cequens = f"{live_server.inbox_url}/cequens"
    [sms] = _eventually(live_server, lambda: _sent(cequens, phone))
    sign_in = re.search(r"\b(\d{6})\b", str(sms["text"]))
    assert sign_in is not None
    assert sms["type"] == "text"  # English, GSM-7
    signed_in = httpx.post(
        f"{base}/v1/auth/code/verify", json={"phone": phone, "code": sign_in.group(1)}, timeout=10
    )
    assert signed_in.status_code == 200, signed_in.text
    # The gateway's delivery report reached the dlrUrl it was given, signed by us.
    _eventually(
        live_server, lambda: _delivery_status(live_server.database_url, phone, "sign_in_code") == "delivered"
    )
