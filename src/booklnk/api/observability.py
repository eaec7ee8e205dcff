"""Request logging, Prometheus metrics, and health/readiness probes."""

from __future__ import annotations

import hmac
import os
import re
import time
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from pydantic import BaseModel
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from booklnk.api.deps import DatabaseDep, SettingsDep
from booklnk.api.problems import problem_responses
from booklnk.api.redaction import redacted
from booklnk.kernel.errors import NotFound, Unauthorized

log = structlog.get_logger("booklnk.http")

REQUESTS = Counter("booklnk_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "booklnk_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

BOOKINGS = Counter(
    "booklnk_bookings_total",
    "Booking requests by kind (appointment, seat) and outcome: created, replayed (an "
    "Idempotency-Key's stored answer), or the problem code that refused it (slot_unavailable, ...)",
    ["kind", "outcome"],
)
BOOKING_ROUTES = {
    "/v1/businesses/{business_id}/bookings": "appointment",
    "/v1/businesses/{business_id}/class-sessions/{session_id}/bookings": "seat",
}

WEBHOOKS_RECEIVED = Counter(
    "booklnk_webhooks_received_total",
    "Signed Kashier webhooks answered, by event and outcome (new, duplicate, ignored); refused"
    " ones are the webhook route's 401s in booklnk_http_requests_total",
    ["event", "outcome"],
)


def _route_template(scope: Scope) -> str:
    # Label by template, not raw path, so ids do not explode the metric cardinality.
    return str(getattr(scope.get("route"), "path", "unmatched"))


class ObservedRequests:
    """Each request's log line, its count and latency, and the booking outcome counter.

    A pure ASGI middleware: it watches the response start go by. (Starlette's
    `BaseHTTPMiddleware` ran every request in a task of its own with memory streams between
    the two: about a tenth of a booking's CPU, measured by bench/stack.py's profile.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        replayed = False

        async def noted_send(message: Message) -> None:
            nonlocal status, replayed
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers", ())
                replayed = any(name.lower() == b"idempotent-replayed" for name, _ in headers)
            await send(message)

        try:
            await self.app(scope, receive, noted_send)
        finally:
            _observed(scope, status, replayed, time.perf_counter() - started)


def _observed(scope: Scope, status: int, replayed: bool, elapsed: float) -> None:
    method = scope["method"]
    route = _route_template(scope)
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(elapsed)
    state = scope.get("state", {})
    problem = state.get("problem_code")
    if method == "POST" and route in BOOKING_ROUTES:
        outcome = problem or ("replayed" if replayed else "created" if status == 201 else str(status))
        BOOKINGS.labels(BOOKING_ROUTES[route], outcome).inc()
    # Who and what, to tell one tenant's or one caller's trouble from the rest: the
    # route's template (ids apart), the business in the path, the signed-in account,
    # and the problem's stable code when the answer was one.
    business_id = scope.get("path_params", {}).get("business_id")
    user_id = state.get("user_id")
    log.info(
        "request",
        method=method,
        path=redacted(scope["path"]),
        route=route,
        status=status,
        duration_ms=round(elapsed * 1000, 2),
        business_id=str(business_id) if business_id else None,
        user_id=str(user_id) if user_id else None,
        problem=problem,
    )


class Health(BaseModel):
    status: str


router = APIRouter(tags=["operations"])


@router.get(
    "/healthz",
    summary="Liveness: the process answers",
    description="No token, no database: 200 with status `ok` whenever the process serves requests. "
    "For liveness probes.",
    response_model=Health,
)
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="Readiness: the database answers",
    description="No token. 200 with status `ok` when the database answers a query, else 503 with status "
    "`unavailable`. For readiness probes and load balancers.",
    response_model=Health,
    responses={503: {"model": Health, "description": "The database is unreachable"}},
)
async def readyz(db: DatabaseDep, response: Response) -> Health:
    try:
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database means "not ready"
        response.status_code = 503
        return Health(status="unavailable")
    return Health(status="ok")


_scraper = HTTPBearer(
    auto_error=False, scheme_name="MetricsToken", description="The BOOKLNK_METRICS_TOKEN setting."
)


@router.get(
    "/metrics",
    summary="Prometheus metrics (for the scraper holding the metrics token)",
    description="Only with `Authorization: Bearer <BOOKLNK_METRICS_TOKEN>` (401 `invalid_metrics_token` "
    "otherwise); 404 `not_found` when no token is configured.",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"},
        **problem_responses(401, 404),
    },
)
async def metrics(
    settings: SettingsDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_scraper)]
) -> Response:
    if settings.metrics_token is None:
        raise NotFound("Not Found")
    expected = settings.metrics_token.get_secret_value().encode()
    given = credentials.credentials.encode() if credentials is not None else b""
    # Constant time: how much of a guess matched must not show in how long it took.
    if not hmac.compare_digest(given, expected):
        raise Unauthorized("Metrics need the metrics bearer token.", code="invalid_metrics_token")
    return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)


def _forget_dead_processes(folder: str) -> None:
    """A server process that died (and was replaced) leaves its live gauges' file behind, and
    a `livesum` would go on adding its last values: drop the files of processes gone."""
    pids = {int(match[1]) for name in os.listdir(folder) if (match := _LIVE_GAUGE_FILE.fullmatch(name))}
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, folder)  # type: ignore[no-untyped-call]
        except PermissionError:  # alive, another user's
            continue


_LIVE_GAUGE_FILE = re.compile(r"gauge_live(?:sum|all|max|min|mostrecent)_(\d+)\.db")


def _registry() -> CollectorRegistry:
    """Every server process's numbers where there are several (`serve --workers N` gives
    them a PROMETHEUS_MULTIPROC_DIR to write to): a scrape reaches one process, and would
    otherwise see its share only, going backwards from one scrape to the next."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return REGISTRY
    _forget_dead_processes(folder)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry
