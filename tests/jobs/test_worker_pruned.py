"""A worker pruned as stalled by another (its heartbeat came late: a starved event loop, a
slow database) notices, starts its workers again, registered anew, and is healthy again.
Before, its heartbeats updated no row and its health stayed 503 until a job came by and
fetching it failed (periodic jobs come every minute, a gateway job may not come for hours)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import make_url

from race_support import free_port, running_job_workers

pytestmark = pytest.mark.live  # starts `booklnk worker`

WAIT_SECONDS = 60.0
FAST = {"BOOKLNK_WORKER_HEARTBEAT_SECONDS": "1", "BOOKLNK_WORKER_STALLED_SECONDS": "3"}


def _registered(database_url: str) -> set[int]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM procrastinate_workers")}


def _prune(database_url: str) -> None:
    """What another worker's start does to workers whose heartbeat is older than its timeout."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM procrastinate_workers")


def _empty_queue(database_url: str) -> None:
    """Earlier live tests leave work behind for no worker (their sign-ups' e-mail): this
    worker starts idle, so its one-second heartbeats are all that is tested."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM procrastinate_jobs WHERE status = 'todo'")


def _idle(database_url: str) -> bool:
    """No job due or running: the periodic ones the worker deferred as it started are
    done (fetching one after the pruning would be the other way it notices)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
            " AND (scheduled_at IS NULL OR scheduled_at <= now())"
        ).fetchone()
    return row is not None and row[0] == 0


def _health(url: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = httpx.get(url, timeout=2).json()
    except httpx.HTTPError:
        return None
    return found


def _until(check: Any, what: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.3)
    raise AssertionError(f"gave up waiting: {what}")


def test_a_worker_pruned_as_stalled_registers_again_and_is_healthy(database_url: str, tmp_path: Path) -> None:
    sync_url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    port = free_port()
    url = f"http://127.0.0.1:{port}/health"
    env = {**FAST, "BOOKLNK_WORKER_HEALTH_PORT": str(port)}
    _empty_queue(sync_url)
    with running_job_workers(database_url, tmp_path, 1, env) as (worker,):
        _until(lambda: (_health(url) or {}).get("status") == "ok", "first healthy")
        pruned = _until(
            lambda: _registered(sync_url) if len(_registered(sync_url)) == 2 else None, "two workers"
        )
        # The worker defers its periodic jobs as each minute starts, and fetching one would
        # also reveal the pruning (the other way it recovers): prune well inside a minute, so
        # that its one-second heartbeat is what notices (a CI run once pruned at :59).
        _until(lambda: 2 <= datetime.now(UTC).second <= 40 and _idle(sync_url), "a quiet minute, idle")
        _prune(sync_url)

        def registered_anew_and_healthy() -> dict[str, Any] | None:
            report = _health(url)
            now = _registered(sync_url)
            if report and report["status"] == "ok" and len(now) == 2 and not now & pruned:
                return report
            return None

        try:
            report = _until(registered_anew_and_healthy, "registered anew and healthy")
        except AssertionError:
            raise AssertionError(f"{_health(url)}\n{worker.log_tail()}") from None
        assert report["restarts"] >= 1
        # It noticed its own pruning, rather than waiting for a job's fetch to fail on it.
        assert "a worker was pruned as stalled" in worker.log_path.read_text(), worker.log_tail()
        assert worker.process.poll() is None
