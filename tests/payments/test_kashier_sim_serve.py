"""``serve()`` — what ``booklnk kashier-sim`` will call — runs a real blocking server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
from kashier_support import API_KEY, MID, SECRET_KEY


def test_serve_blocks_running_the_simulator() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = (
        "from booklnk.payments.kashier.simulator import serve; "
        f"serve('127.0.0.1', {port}, api_key={API_KEY!r}, secret_key={SECRET_KEY!r}, mid={MID!r})"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, "serve() exited"
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/payments/orders/x",
                    headers={"Authorization": SECRET_KEY},
                    timeout=2,
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "serve() never listened"
                time.sleep(0.1)
        assert response.json()["status"] == "FAILURE"  # unknown order, but authorised
        outbox = httpx.get(f"http://127.0.0.1:{port}/__sim/outbox", timeout=2).json()
        assert outbox["pending"] == 0
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
