"""`booklnk serve --worker --kashier-sim`, stopped by SIGTERM (as `kill`, systemd and
`docker stop` do) or SIGINT sent to the server process alone, stops its worker, its
simulator and the embedded PostgreSQL it started: no process is left. Before, SIGTERM
left all three running, orphaned."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from race_support import free_port

pytestmark = pytest.mark.live  # starts `booklnk serve` on an embedded PostgreSQL

WAIT_SECONDS = 60.0


def _processes() -> dict[int, tuple[int, str]]:
    """Every live process: its parent and its command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # ended meanwhile
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            found[int(entry.name)] = (int(fields[1]), command)
    return found


def _descendants(root: int, processes: dict[int, tuple[int, str]]) -> set[int]:
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, (parent, _) in processes.items() if parent in frontier} - found
        found |= frontier
    return found


def _ours(root: int, data_dir: Path) -> set[int]:
    """The server's children and the embedded PostgreSQL of `data_dir` (pg_ctl detaches it)."""
    processes = _processes()
    postgres = {pid for pid, (_, command) in processes.items() if str(data_dir) in command}
    postgres |= {pid for master in postgres for pid in _descendants(master, processes)}
    return _descendants(root, processes) | postgres


def _until(check: Callable[[], bool], what: str, log: Path) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not check():
        assert time.monotonic() < deadline, f"{what}:\n{log.read_text(errors='replace')[-3000:]}"
        time.sleep(0.2)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_the_server_stops_every_child_and_the_embedded_database(
    sig: signal.Signals, tmp_path: Path
) -> None:
    data_dir = tmp_path / "pgdata"
    port, simulator_port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("BOOKLNK_")}
    env.pop("DATABASE_URL", None)
    env |= {
        "BOOKLNK_EMBEDDED_PG_DIR": str(data_dir),
        "BOOKLNK_WORKER_HEALTH_PORT": "0",
        "BOOKLNK_PASSWORD_TIME_COST": "1",
        "BOOKLNK_PASSWORD_MEMORY_KIB": "1024",
    }
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "booklnk.cli", "serve", "--worker", "--kashier-sim"]
    command += ["--port", str(port), "--kashier-sim-port", str(simulator_port)]
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:

        def ready() -> bool:
            try:
                api = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code
                sim = httpx.get(f"http://127.0.0.1:{simulator_port}/__sim/orders/none", timeout=2).status_code
            except httpx.HTTPError:
                return False
            return api == 200 and sim == 404 and "Worker started" in log.read_text(errors="replace")

        _until(ready, "never ready", log)
        running = _ours(server.pid, data_dir)
        assert len(running) >= 4, running  # worker, simulator, postgres and its helpers

        os.kill(server.pid, sig)  # the server alone, not its process group
        server.wait(timeout=WAIT_SECONDS)
        _until(lambda: not (running & set(_processes())), "processes outlived the server", log)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        for pid in _ours(server.pid, data_dir):  # never leave a stray one behind a failure
            os.kill(pid, signal.SIGKILL)
