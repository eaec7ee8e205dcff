"""`booklnk serve --worker` keeps its worker: a worker child killed (SIGKILL, as the OOM
killer would) is started again and answers its health check; stopping the server stops
the child with it. Before, a dead worker child stayed dead and jobs stopped silently."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from race_support import LiveServer, free_port, server_env, stop_server, wait_until_ready

pytestmark = pytest.mark.live  # starts `booklnk serve` and its worker

WAIT_SECONDS = 60.0


@dataclass
class Served:
    server: LiveServer
    health_url: str

    def children(self) -> list[int]:
        """The server's child processes (each thread lists those it started)."""
        tasks = Path(f"/proc/{self.server.process.pid}/task").glob("*/children")
        return sorted(int(child) for task in tasks for child in task.read_text().split())


@pytest.fixture
def live_server(database_url: str, tmp_path: Path) -> Iterator[Served]:
    port, health_port = free_port(), free_port()
    log_path = tmp_path / "serve.log"
    env = {
        **server_env(database_url),
        "BOOKLNK_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "BOOKLNK_WORKER_HEALTH_PORT": str(health_port),
    }
    command = [sys.executable, "-m", "booklnk.cli", "serve", "--worker", "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = LiveServer(process, f"http://127.0.0.1:{port}", log_path)
    try:
        wait_until_ready(server, 1)
        yield Served(server, f"http://127.0.0.1:{health_port}/health")
    finally:
        stop_server(server)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(probe: Callable[[], bool], what: str, served: Served) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not probe():
        assert time.monotonic() < deadline, f"{what}:\n{served.server.log_tail()}"
        time.sleep(0.2)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_a_killed_worker_child_is_started_again(live_server: Served) -> None:
    served = live_server
    _wait(lambda: _healthy(served.health_url), "the worker never became healthy", served)
    (first,) = served.children()
    os.kill(first, signal.SIGKILL)
    _wait(lambda: served.children() not in ([], [first]), "the worker was not started again", served)
    (second,) = served.children()
    _wait(lambda: _healthy(served.health_url), "the new worker never became healthy", served)
    assert "child_exited" in served.server.log_path.read_text()

    os.killpg(served.server.process.pid, signal.SIGTERM)  # as Ctrl-C or `docker stop` would
    served.server.process.wait(timeout=WAIT_SECONDS)
    _wait(lambda: not _alive(second), "the worker outlived its server", served)
