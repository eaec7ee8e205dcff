"""Where logs are JSON (production, or BOOKLNK_LOG_JSON=true), every line a command writes
is one JSON object, from the command's own words to the simulator's web server and the
worker's child processes: a log collector reads one format per stream. Before, the
start-up lines ('Applying migrations…', 'API docs: …', 'Worker started') and the
simulator's uvicorn lines were plain text among the JSON ones."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from race_support import free_port, server_env

pytestmark = pytest.mark.live  # starts `booklnk serve` with its worker and simulator


def _not_json(text: str) -> list[str]:
    wrong = []
    for line in text.splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            wrong.append(line)
        else:
            if not isinstance(parsed, dict) or "event" not in parsed:
                wrong.append(line)
    return wrong


def test_serve_with_its_children_writes_json_lines_only(database_url: str, tmp_path: Path) -> None:
    port, simulator_port = free_port(), free_port()
    env = {**server_env(database_url), "BOOKLNK_LOG_JSON": "true"}
    command = [sys.executable, "-m", "booklnk.cli", "serve", "--worker", "--kashier-sim"]
    command += ["--port", str(port), "--kashier-sim-port", str(simulator_port)]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            text = log.read_text(errors="replace")
            try:
                up = (
                    httpx.get(f"http://127.0.0.1:{simulator_port}/__sim/outbox", timeout=2).status_code == 200
                )
                up = up and httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                up = False
            if up and "worker_starting" in text:
                break
            assert server.poll() is None, text
            assert time.monotonic() < deadline, text
            time.sleep(0.3)
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    text = log.read_text(errors="replace")
    assert "migrations_applying" in text
    assert "simulator_serving" in text
    assert _not_json(text) == []


def test_one_shot_commands_write_json_lines_only(database_url: str) -> None:
    env = {**server_env(database_url), "BOOKLNK_LOG_JSON": "true"}
    for args in (["migrate"], ["reconcile", "--date", "2026-12-01"]):
        done = subprocess.run(
            [sys.executable, "-m", "booklnk.cli", *args], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert _not_json(done.stderr + done.stdout) == [], args
