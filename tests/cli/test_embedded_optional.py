"""The embedded PostgreSQL is an optional extra, imported only when used: a deployment with
DATABASE_URL neither installs nor imports `pgserver` (no arm64 or Python 3.13 wheel, 34 MB
of the image), and no command prints its platformdirs warning any more. Without it and
without DATABASE_URL, a command says so in one line and exits 2. Before, pgserver was a
required dependency, imported at every start."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("BOOKLNK_")}
    env.pop("DATABASE_URL", None)
    return env | extra


def test_pgserver_is_an_extra_not_a_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(dep.startswith("pgserver") for dep in project["dependencies"])
    assert any(dep.startswith("pgserver") for dep in project["optional-dependencies"]["embedded"])


def test_the_stack_runs_without_importing_pgserver(database_url: str) -> None:
    probe = (
        "import sys\n"
        "from booklnk.cli import runs\n"
        "runs.migrate(runs.settings())\n"
        "print('pgserver' in sys.modules)\n"
    )
    url = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    done = subprocess.run(
        [sys.executable, "-c", probe], env=_env(DATABASE_URL=url), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
    assert "RuntimeDirWarning" not in done.stderr


def test_without_the_extra_and_without_a_database_a_command_says_so_and_exits_2() -> None:
    # As installed without the extra: importing pgserver fails.
    probe = "import sys\nsys.modules['pgserver'] = None\nfrom booklnk.cli.main import app\napp(['migrate'])\n"
    done = subprocess.run(
        [sys.executable, "-c", probe], env=_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert "configuration error: DATABASE_URL is not set and the embedded PostgreSQL is not installed" in (
        done.stderr
    )
    assert "Traceback" not in done.stderr
