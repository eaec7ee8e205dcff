"""The worker's health: healthy only while it runs and its heartbeat, as stored, is fresh;
served over HTTP as JSON (200 or 503) next to its Prometheus metrics."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from booklnk.jobs.health import Health, HealthServer

STALLED = 60.0


def test_a_starting_worker_is_not_healthy() -> None:
    report = Health(STALLED).report()
    assert (report.healthy, report.state, report.heartbeat_age_seconds) == (False, "starting", None)


def test_a_running_worker_with_a_fresh_heartbeat_is_healthy() -> None:
    health = Health(STALLED)
    health.running()
    health.heartbeat(2.0)
    report = health.report()
    assert report.healthy
    assert report.reason is None
    assert report.heartbeat_age_seconds is not None
    assert 2.0 <= report.heartbeat_age_seconds < STALLED


def test_a_stale_heartbeat_is_unhealthy_though_running() -> None:
    health = Health(STALLED)
    health.running()
    health.heartbeat(STALLED + 1)
    report = health.report()
    assert not report.healthy
    assert report.reason == "no fresh heartbeat in the database"


def test_reconnecting_is_unhealthy_says_why_and_counts() -> None:
    health = Health(STALLED)
    health.running()
    health.heartbeat(1.0)
    health.reconnecting("ConnectorException: the database system is shutting down")
    health.reconnecting("OperationalError: connection refused")
    report = health.report()
    assert (report.healthy, report.state, report.restarts) == (False, "reconnecting", 2)
    assert report.reason == "OperationalError: connection refused"
    health.running()
    assert health.report().healthy
    assert health.report().restarts == 2


@pytest.fixture
def served() -> Iterator[tuple[Health, str]]:
    health = Health(STALLED)
    server = HealthServer(health, "127.0.0.1", 0)
    server.serve()
    try:
        yield health, server.url
    finally:
        server.close()


def test_health_answers_503_then_200_and_metrics_are_served(served: tuple[Health, str]) -> None:
    health, url = served
    down = httpx.get(f"{url}/health")
    assert down.status_code == 503
    assert down.json()["status"] == "unhealthy"
    health.running()
    health.heartbeat(0.5)
    up = httpx.get(f"{url}/health")
    assert up.status_code == 200
    assert up.json() | {"heartbeat_age_seconds": None} == {
        "status": "ok",
        "state": "running",
        "heartbeat_age_seconds": None,
        "restarts": 0,
        "reason": None,
    }
    metrics = httpx.get(f"{url}/metrics")
    assert metrics.status_code == 200
    assert "booklnk_worker_running" in metrics.text
