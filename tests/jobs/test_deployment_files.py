"""compose.yaml and the Dockerfile say what the code does: every service comes back after a
crash, the worker runs a command the CLI has, and its health check asks the port and path
the worker answers on (no Docker engine runs here, so the files are read, not run)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from typer.main import get_command

from booklnk.cli.main import app
from booklnk.config import Settings

ROOT = Path(__file__).parents[2]


def _compose() -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return found


def test_every_service_is_restarted_after_a_crash() -> None:
    services = _compose()["services"]
    policies = {name: service.get("restart") for name, service in services.items()}
    assert policies == dict.fromkeys(services, "unless-stopped")


def test_the_worker_service_runs_the_cli_worker_and_checks_its_health_where_it_answers() -> None:
    worker = _compose()["services"]["worker"]
    program, command = worker["command"]
    assert program == "booklnk"
    assert command in get_command(app).commands
    settings = Settings.model_validate(
        {key.removeprefix("BOOKLNK_").lower(): value for key, value in worker["environment"].items()}
    )
    probe = " ".join(worker["healthcheck"]["test"])
    url = re.search(r"http://127\.0\.0\.1:(\d+)(/\S*?)'", probe)
    assert url is not None, probe
    assert int(url.group(1)) == settings.worker_health_port
    assert url.group(2) == "/health"
    assert settings.worker_health_host == "0.0.0.0"  # reachable by a scraper on the network
    assert str(settings.worker_health_port) in worker["expose"]


def test_the_image_serves_the_command_the_cli_has() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = re.search(r'^CMD \["booklnk", "(\w+)"', dockerfile, re.MULTILINE)
    assert cmd is not None
    assert cmd.group(1) in get_command(app).commands
