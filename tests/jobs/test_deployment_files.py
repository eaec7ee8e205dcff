"""compose.yaml and the Dockerfile say what the code does. No Docker engine runs here, so
the files are read and their services run as compose would run them: each profile's
environment (interpolated as compose does, `${VAR:?}` refusing what is unset) is one the
settings accept, each command one the CLI takes, every long-running service comes back
after a crash, and the production API, started with its compose command and environment
against a database prepared by the `migrate` service and the postgres init script, logs
in as the restricted application login and serves. Before, the API and the worker exited
1 (production settings compose never passed) and the worker inherited the API's check."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import yaml
from pydantic import ValidationError
from sqlalchemy import make_url
from typer.main import get_command

from booklnk.cli.main import app
from booklnk.config import Settings
from race_support import free_port

ROOT = Path(__file__).parents[2]
PRODUCTION_VARIABLES = {
    "POSTGRES_PASSWORD": "owner-password",
    "BOOKLNK_API_DB_PASSWORD": "api-password",
    "BOOKLNK_JWT_SECRET": "j" * 40,
    "BOOKLNK_PUBLIC_BASE_URL": "https://book.example.com",
    "BOOKLNK_KASHIER_MID": "MID-1234-567",
    "BOOKLNK_KASHIER_API_KEY": "a-real-payment-api-key",
    "BOOKLNK_KASHIER_SECRET_KEY": "a-real-secret-key",
    "BOOKLNK_KASHIER_MODE": "live",
    "BOOKLNK_KASHIER_HPP_URL": "https://payments.kashier.io",
    "BOOKLNK_KASHIER_API_URL": "https://api.kashier.io",
    "BOOKLNK_KASHIER_FEP_URL": "https://fep.kashier.io",
    "BOOKLNK_SMTP_HOST": "smtp.example.com",
    "BOOKLNK_MAIL_FROM": "Booklnk <no-reply@example.com>",
}
_VARIABLE = re.compile(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}")


class Unset(Exception):
    """A `${VAR:?message}` compose refuses to start without."""


def _interpolate(value: Any, variables: dict[str, str]) -> Any:
    """compose's variable syntax, as this file uses it: ${VAR}, ${VAR:-default}, ${VAR:?message}."""
    if isinstance(value, dict):
        return {key: _interpolate(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolate(item, variables) for item in value]
    if not isinstance(value, str):
        return value

    def one(found: re.Match[str]) -> str:
        name, how, rest = found.groups()
        if variables.get(name):
            return variables[name]
        if how == ":?":
            raise Unset(f"{name}: {rest}")
        return rest if how == ":-" else ""

    return _VARIABLE.sub(one, value)


def _compose(*files: str, variables: dict[str, str] | None = None) -> dict[str, Any]:
    """The files merged as compose merges them (a later file's service keys override, its
    environment adds to the earlier one's), each interpolated first."""
    merged: dict[str, Any] = {"services": {}}
    for name in files:
        found = _interpolate(yaml.safe_load((ROOT / name).read_text()), variables or {})
        for service, keys in found["services"].items():
            into = merged["services"].setdefault(service, {})
            environment = {**into.get("environment", {}), **keys.get("environment", {})}
            into.update(keys)
            if environment:
                into["environment"] = environment
    return merged


PROFILES = {"dev": ("compose.yaml",), "prod": ("compose.yaml", "compose.prod.yaml")}


def _services(profile: str, variables: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The services `docker compose -f … --profile <profile> up` starts."""
    services: dict[str, dict[str, Any]] = _compose(*PROFILES[profile], variables=variables)["services"]
    return {name: s for name, s in services.items() if profile in s.get("profiles", [profile])}


def _settings(environment: dict[str, Any]) -> Settings:
    values = {key: str(value) for key, value in environment.items()}
    return Settings.model_validate(
        {key.removeprefix("BOOKLNK_").lower(): value for key, value in values.items()}
    )


def test_every_long_running_service_is_restarted_and_the_migration_runs_once() -> None:
    services = _compose(*PROFILES["prod"], variables=PRODUCTION_VARIABLES)["services"]
    policies = {name: service.get("restart") for name, service in services.items()}
    assert policies == {**dict.fromkeys(services, "unless-stopped"), "migrate": "no"}
    for name in ("dev", "api", "worker"):
        assert services[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}


@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_each_command_is_one_the_cli_takes(profile: str) -> None:
    commands = get_command(app).commands  # type: ignore[attr-defined]
    for name, service in _services(profile, PRODUCTION_VARIABLES).items():
        if "command" not in service:
            continue  # the database's image
        program, command, *args = service["command"]
        assert program == "booklnk", name
        commands[command].make_context(command, list(args))  # refuses an unknown option


def test_production_needs_every_kashier_setting_and_its_environment_is_accepted() -> None:
    services = _services("prod", PRODUCTION_VARIABLES)
    assert set(services) == {"db", "migrate", "api", "worker"}
    for name in ("api", "worker"):
        settings = _settings(services[name]["environment"])
        assert settings.environment == "production"
        assert settings.kashier_mode == "live"
    for missing in PRODUCTION_VARIABLES:
        with pytest.raises(Unset, match=missing):
            _services("prod", {k: v for k, v in PRODUCTION_VARIABLES.items() if k != missing})


def test_production_texts_only_with_the_providers_keys() -> None:
    """E-mail alone by default; SMS or WhatsApp switched on without their keys is refused at
    start, naming each missing key (the simulators' would be accepted silently otherwise)."""
    texting = {**PRODUCTION_VARIABLES, "BOOKLNK_MESSAGE_CHANNELS": "email,sms,whatsapp"}
    with pytest.raises(ValidationError) as refused:
        _settings(_services("prod", texting)["worker"]["environment"])
    for key in ("CEQUENS_API_KEY", "CEQUENS_USERNAME", "WHATSAPP_ACCESS_TOKEN", "WHATSAPP_APP_SECRET"):
        assert f"BOOKLNK_{key} must be set" in str(refused.value)
    keys = {
        "BOOKLNK_CEQUENS_USERNAME": "shop",
        "BOOKLNK_CEQUENS_API_KEY": "k" * 20,
        "BOOKLNK_WHATSAPP_ACCESS_TOKEN": "t" * 20,
        "BOOKLNK_WHATSAPP_APP_SECRET": "s" * 20,
        "BOOKLNK_WHATSAPP_VERIFY_TOKEN": "v" * 20,
    }
    settings = _settings(_services("prod", {**texting, **keys})["worker"]["environment"])
    assert settings.message_channels == ["email", "sms", "whatsapp"]
    assert settings.whatsapp_api_url == "https://graph.facebook.com"


def test_development_runs_with_no_variables_and_includes_the_simulator() -> None:
    services = _services("dev", {})  # compose.yaml alone needs no variable
    assert set(services) == {"db", "migrate", "dev"}
    dev = services["dev"]
    settings = _settings(dev["environment"])
    assert settings.environment == "development"
    assert "--kashier-sim" in dev["command"]
    assert "8790:8790" in dev["ports"]
    assert "--messages-sim" in dev["command"]
    assert "8026:8026" in dev["ports"]


def test_the_worker_checks_its_own_health_where_it_answers() -> None:
    worker = _services("prod", PRODUCTION_VARIABLES)["worker"]
    settings = _settings(worker["environment"])
    probe = " ".join(worker["healthcheck"]["test"])
    url = re.search(r"http://127\.0\.0\.1:(\d+)(/\S*?)'", probe)
    assert url is not None, probe
    assert int(url.group(1)) == settings.worker_health_port
    assert url.group(2) == "/health"
    assert settings.worker_health_host == "0.0.0.0"  # reachable by a scraper on the network
    assert str(settings.worker_health_port) in worker["expose"]


def test_the_image_serves_a_command_the_cli_has_and_installs_no_embedded_database() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = re.search(r'^CMD \["booklnk", "(\w+)"', dockerfile, re.MULTILINE)
    assert cmd is not None
    assert cmd.group(1) in get_command(app).commands  # type: ignore[attr-defined]
    assert "--no-dev" in dockerfile
    assert "--extra" not in dockerfile  # the embedded PostgreSQL is an extra it leaves out


def _here(url: str, owner: str) -> str:
    """A compose URL (host `db`, compose's passwords) for the test's own server: its host and
    port, or its socket folder (`?host=` for the embedded server)."""
    server = make_url(owner)
    return (
        make_url(url)
        .set(host=server.host, port=server.port, database=server.database, password=None, query=server.query)
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


@pytest.fixture
def prepared_database(database_url: str) -> tuple[str, str]:
    """A database as compose's first start leaves it: the init script's login, then the
    `migrate` service's migrations (the test fixture's database is already migrated)."""
    owner = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    database = make_url(database_url).database or ""
    login = f"booklnk_api_{uuid.uuid4().hex[:8]}"
    server = make_url(owner)
    env = {
        **os.environ,
        "POSTGRES_USER": server.username or "postgres",
        "POSTGRES_DB": database,
        # A TCP server's host and port, or the embedded server's socket folder.
        "PGHOST": server.host or str(server.query.get("host", "127.0.0.1")),
        "PGPORT": str(server.port or 5432),
        "BOOKLNK_API_DB_USER": login,
        "BOOKLNK_API_DB_PASSWORD": "unused-here-the-test-server-trusts-local-logins",
    }
    done = subprocess.run(
        ["sh", str(ROOT / "deploy/postgres/10-app-login.sh")], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return owner, login


@pytest.mark.live
def test_the_production_api_runs_as_compose_runs_it_on_the_restricted_login(
    prepared_database: tuple[str, str], tmp_path: Path
) -> None:
    owner, login = prepared_database
    database = make_url(owner).database or ""
    api = _services("prod", PRODUCTION_VARIABLES)["api"]
    env = {key: value for key, value in os.environ.items() if not key.startswith("BOOKLNK_")}
    env.pop("DATABASE_URL", None)
    env |= {key: str(value) for key, value in api["environment"].items()}
    app_url = make_url(_here(env["BOOKLNK_APP_DATABASE_URL"], owner)).set(username=login)
    env["BOOKLNK_APP_DATABASE_URL"] = app_url.render_as_string(hide_password=False)
    env |= {"BOOKLNK_PASSWORD_TIME_COST": "1", "BOOKLNK_PASSWORD_MEMORY_KIB": "1024"}
    with psycopg.connect(owner, autocommit=True) as conn:  # the suite's own, and other servers'
        before = {
            row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,))
        }
    port = free_port()
    command = [a if a != "8000" else str(port) for a in api["command"]]
    command = [a.replace("0.0.0.0", "127.0.0.1") for a in command]
    assert command[:2] == ["booklnk", "serve"]
    log = tmp_path / "api.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "booklnk.cli", *command[1:]],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        signed_up = httpx.post(
            f"{base}/v1/auth/register",
            json={"email": f"{uuid.uuid4().hex[:8]}@example.com"},
            timeout=10,
        )
        assert signed_up.status_code == 202, signed_up.text
        with psycopg.connect(owner, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid, usename FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            )
            logins = {usename for pid, usename in rows if pid not in before}
        assert logins == {login}
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
        with psycopg.connect(owner, autocommit=True) as conn:
            conn.execute(f'DROP ROLE IF EXISTS "{login}"')
