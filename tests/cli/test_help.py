"""`booklnk --help` and a mistyped option answer without importing the stack (the
database, the jobs, Kashier's client, the web server): before, every command line imported
all of it first (about 3 s here; bench: `time booklnk --help`)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("sqlalchemy", "fastapi", "uvicorn", "procrastinate", "pgserver", "httpx", "booklnk.cli.runs")


def test_the_command_line_imports_no_part_of_the_stack_to_show_its_help() -> None:
    probe = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from booklnk.cli.main import app\n"
        "result = CliRunner().invoke(app, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "assert 'reconcile' in result.output and 'serve' in result.output, result.output\n"
        f"print(sorted(name for name in {HEAVY!r} if name in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout


def test_a_command_still_runs_with_the_stack() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "booklnk.cli", "reconcile", "--date", "not-a-day"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "give the day as YYYY-MM-DD" in done.stderr
