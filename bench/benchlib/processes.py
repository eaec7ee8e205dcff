"""Servers as separate processes: a free port, start in a process group of its own, wait
until every worker is up, stop (SIGTERM, then SIGKILL) by the pid that was started."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import make_url

WORKERS = 2  # uvicorn processes, for the API and for the stack-ceiling app alike


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A uvicorn supervisor and its workers, in their own process group."""

    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def start_server(name: str, command: list[str], env: dict[str, str], log_dir: Path, port: int) -> Server:
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as out:
        # A session of its own: stopping signals the supervisor and its workers together.
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Server(name, process, f"http://127.0.0.1:{port}", log_path)


def start_worker(name: str, env: dict[str, str], log_dir: Path, concurrency: int = 8) -> Server:
    """A `booklnk worker` process. Its health and metrics port is left to the system (0), as
    the test suite's workers do: two on the default port left one dead at start-up."""
    command = [sys.executable, "-m", "booklnk.cli", "worker", "--concurrency", str(concurrency)]
    return start_server(name, command, env | {"BOOKLNK_WORKER_HEALTH_PORT": "0"}, log_dir, 0)


def start_messages_sim(env: dict[str, str], log_dir: Path) -> tuple[Server, dict[str, str]]:
    """`booklnk messages-sim` (SMTP, Cequens, WhatsApp) on ports of its own, and the settings
    that point the workers at it: a confirmed booking's messages are sent, as they would be
    in production, instead of each failing to connect and retrying ahead of the work the
    benchmark waits for."""
    smtp_port, web_port = free_port(), free_port()
    sim = f"http://127.0.0.1:{web_port}"
    pointed = {
        "BOOKLNK_SMTP_PORT": str(smtp_port),
        "BOOKLNK_CEQUENS_API_URL": f"{sim}/cequens",
        "BOOKLNK_WHATSAPP_API_URL": f"{sim}/whatsapp",
    }
    command = [sys.executable, "-m", "booklnk.cli", "messages-sim", "--port", str(web_port)]
    return start_server("messages-sim", command, env | pointed, log_dir, web_port), pointed


def still_running(servers: list[Server]) -> None:
    """Raise, with its log's tail, if one of `servers` has exited (a figure measured with
    fewer processes than the table says would mislead)."""
    for server in servers:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited ({server.process.returncode}):\n{server.log_tail()}")


def wait_ready(server: Server, timeout: float = 120.0) -> None:
    """Until every worker has started its app and one of them answers /readyz."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited ({server.process.returncode}):\n{server.log_tail()}")
        started = server.log_path.read_text(errors="replace").count("Application startup complete.")
        with contextlib.suppress(httpx.HTTPError):
            if started >= WORKERS and httpx.get(f"{server.base_url}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"{server.name} not ready in {timeout:.0f}s:\n{server.log_tail()}")


def stop_server(server: Server) -> None:
    """SIGTERM the group (by the pid we started), then SIGKILL what is left; bounded waits."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.process.wait(timeout=10)


def server_env(bench_url: str) -> dict[str, str]:
    libpq = make_url(bench_url).set(drivername="postgresql").render_as_string(hide_password=False)
    return {
        **os.environ,
        "DATABASE_URL": libpq,
        "BOOKLNK_PASSWORD_TIME_COST": "1",
        "BOOKLNK_PASSWORD_MEMORY_KIB": "1024",
        # Every simulated client calls from this one address: the per-address rate limits
        # would measure themselves, not the booking path.
        "BOOKLNK_REGISTRATIONS_PER_MINUTE": "100000",
        "BOOKLNK_LOGINS_PER_MINUTE": "100000",
        "BOOKLNK_BOOKINGS_PER_MINUTE": "100000",
        "BOOKLNK_WEBHOOKS_PER_MINUTE": "100000",
        "BOOKLNK_PUBLIC_READS_PER_MINUTE": "100000",
    }


def print_log_tails(servers: Iterable[Server]) -> None:
    """Each server's last log lines on stderr: what a failed run leaves to read."""
    for server in servers:
        print(f"--- {server.name} log tail ---\n{server.log_tail()}", file=sys.stderr)
