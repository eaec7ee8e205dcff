"""The worker's health (its heartbeat, as the database last stored it) and metrics, served
over HTTP from a thread: `GET /health` answers 200 while the worker runs and its heartbeat
is fresh, 503 otherwise (reconnecting to its database, or its heartbeat stale); any other
path answers Prometheus metrics. A container's health check and an operator's `curl` read
the same thing."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import structlog
from prometheus_client import make_wsgi_app

log = structlog.get_logger(__name__)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


@dataclass(frozen=True, slots=True)
class Report:
    healthy: bool
    state: str
    heartbeat_age_seconds: float | None
    restarts: int
    reason: str | None


class Health:
    """What the worker loop reports (from the event loop) and the HTTP thread reads. Each
    update replaces a few attributes at once under a lock."""

    def __init__(self, stalled_seconds: float) -> None:
        self._stalled_seconds = stalled_seconds
        self._lock = threading.Lock()
        self._state = "starting"
        self._reason: str | None = None
        self._restarts = 0
        self._heartbeat_age: float | None = None
        self._measured_at = time.monotonic()

    def running(self) -> None:
        with self._lock:
            self._state, self._reason = "running", None

    def reconnecting(self, reason: str) -> None:
        with self._lock:
            self._state, self._reason = "reconnecting", reason
            self._restarts += 1

    def heartbeat(self, age_seconds: float) -> None:
        """The oldest heartbeat of this process's workers, `age_seconds` old just now."""
        with self._lock:
            self._heartbeat_age, self._measured_at = age_seconds, time.monotonic()

    def report(self) -> Report:
        with self._lock:
            age = None
            if self._heartbeat_age is not None:
                age = self._heartbeat_age + time.monotonic() - self._measured_at
            fresh = age is not None and age < self._stalled_seconds
            reason = self._reason
            if self._state == "running" and not fresh:
                reason = "no fresh heartbeat in the database"
            return Report(
                healthy=self._state == "running" and fresh,
                state=self._state,
                heartbeat_age_seconds=None if age is None else round(age, 1),
                restarts=self._restarts,
                reason=reason,
            )


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Probes every few seconds would drown the worker's own log."""


def _app(health: Health) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    metrics = make_wsgi_app()

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/health":
            return metrics(environ, start_response)  # type: ignore[no-any-return]
        report = health.report()
        body = json.dumps(
            {
                "status": "ok" if report.healthy else "unhealthy",
                "state": report.state,
                "heartbeat_age_seconds": report.heartbeat_age_seconds,
                "restarts": report.restarts,
                "reason": report.reason,
            }
        ).encode()
        status = "200 OK" if report.healthy else "503 Service Unavailable"
        start_response(status, [("Content-Type", "application/json"), ("Cache-Control", "no-store")])
        return [body]

    return app


class HealthServer:
    """`serve()` starts answering on a daemon thread; `close()` stops."""

    def __init__(self, health: Health, host: str, port: int) -> None:
        self._server = make_server(host, port, _app(health), _Server, handler_class=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="worker-health", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def serve(self) -> None:
        self._thread.start()
        log.info("worker_health_serving", url=self.url)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
