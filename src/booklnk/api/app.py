"""The FastAPI application factory: nothing connects until the app starts."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline
from starlette.middleware.base import BaseHTTPMiddleware

from booklnk.api import limits
from booklnk.api.body_limit import BodyLimitMiddleware
from booklnk.api.cors import allow_browsers
from booklnk.api.observability import observe_request
from booklnk.api.observability import router as operations_router
from booklnk.api.problems import PROBLEM_MEDIA_TYPE, Problem, install_problem_handlers, problem_responses
from booklnk.api.rate_limit import RateLimiter
from booklnk.api.routes import (
    auth,
    booking_lists,
    bookings,
    business_types,
    businesses,
    catalog,
    classes,
    payments,
    public,
    schedules,
)
from booklnk.api.routes.payments import KASHIER_WEBHOOK_PATH
from booklnk.bootstrap import load_business_types, passwords_for
from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.kernel.clock import Clock, SystemClock
from booklnk.tracing import API_SERVICE, start_tracing

TAGS = [
    {"name": "auth", "description": "Accounts, logins and tokens."},
    {"name": "businesses", "description": "Businesses, their settings, members and invitations."},
    {"name": "business types", "description": "The kinds of business, as configuration (platform admins)."},
    {"name": "catalog", "description": "Services, staff, resources, their hours, overrides and time off."},
    {"name": "bookings", "description": "Availability, booking, rescheduling, staff actions and money."},
    {"name": "classes", "description": "Class series, sessions, seats and waitlists."},
    {"name": "payments", "description": "Kashier checkout, webhooks, returns and reconciliation."},
    {"name": "calendar feeds", "description": "ICS feeds of a calendar, read by a secret URL."},
    {"name": "public", "description": "A business's booking page, read without an account."},
    {"name": "operations", "description": "Health, readiness and metrics."},
]

DESCRIPTION = """
Booklnk is a multi-tenant booking backend for barbershops, gyms, consultants and any other
kind of business described by a **business type**.

* Authenticate with `POST /v1/auth/login` and send `Authorization: Bearer <access_token>`.
* Errors are RFC 9457 `application/problem+json` with a stable `code` and, for invalid input,
  `errors[]` naming each field and the rule it broke.
* Lists are cursor-paginated: pass `next_cursor` back as `cursor`.
* A business's public booking page needs no account: `GET /v1/public/businesses/{slug}` and
  its `/services`, `/staff`, `/opening-hours`, `/availability`, `/class-sessions` (rate-limited
  per client address: 429 with `Retry-After`).

**A customer's way through, in five calls**
1. Find: `GET /v1/public/businesses/{slug}`, then its `/services` and
   `/availability?service_id=…&from=…&to=…` (slots with local and UTC times).
2. Sign in: `POST /v1/auth/register` once, `POST /v1/auth/login` (tokens).
3. Book: `POST /v1/businesses/{business_id}/bookings` with an `Idempotency-Key` header (a
   retry returns the same booking, `Idempotent-Replayed: true`); 409 `slot_unavailable` when
   the time was just taken. A booking that needs payment is `held` for a short while.
4. Pay: `POST /v1/businesses/{business_id}/bookings/{booking_id}/payments` gives Kashier's
   hosted page `url` (or the `kashier` fields for its iframe and mobile SDKs); send the
   customer there, with your `return_url` to come back to.
5. Follow: `GET /v1/businesses/{business_id}/bookings/{booking_id}` until `status` is
   `confirmed` (Kashier's webhook confirms it, usually within seconds); its `money` shows what
   was paid and what is due.
"""


def create_app(settings: Settings, db: Database, *, clock: Clock | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await load_business_types(db, settings)
        # Everything allocated so far lives as long as the process: keep the collector's
        # full passes from walking it on every request (they made the p95 tails).
        gc.freeze()
        yield
        await db.dispose()
        if traced is not None:
            traced.shutdown()  # exports the spans still batched

    # Swagger UI's and ReDoc's files come from the app itself (/static-offline-docs): the
    # docs open offline and behind a strict Content-Security-Policy, never blank.
    app = FastAPIOffline(
        title="Booklnk API",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url="/redoc",
        openapi_url="/openapi.json",
        openapi_tags=TAGS,
        servers=[{"url": "/", "description": "This deployment (the address the document was read from)"}],
        contact={"name": "Booklnk", "url": "https://booklnk.dev"},
        # operationIds are the handlers' names (create_booking, staff_get_weekly_schedule):
        # short, and stable for generated clients (FastAPI's default appends path and method).
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.settings = settings
    app.state.passwords = passwords_for(settings)
    app.state.db = db
    app.state.clock = clock or SystemClock()
    # The public page's reads, per client address (this process's count; see rate_limit).
    app.state.public_reads = RateLimiter(settings.public_reads_per_minute, 60)
    # Registration, login, booking creation and the webhook, each per client address.
    app.state.limits = limits.build(settings)

    install_problem_handlers(app)
    # Innermost of the three: a refused body is still logged, counted and given a request id.
    app.add_middleware(
        BodyLimitMiddleware,
        default=settings.max_body_bytes,
        per_path={KASHIER_WEBHOOK_PATH: settings.max_webhook_body_bytes},
    )
    app.add_middleware(BaseHTTPMiddleware, dispatch=observe_request)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID")
    allow_browsers(app, settings.cors_allowed_origins)
    # Off unless BOOKLNK_OTEL_ENABLED: then server spans (outermost) and the engine's SQL.
    traced = app.state.tracing = start_tracing(settings, API_SERVICE)
    if traced is not None:
        traced.instrument_app(app)
        traced.instrument_engine(db.engine)

    for module in (
        auth,
        businesses,
        business_types,
        catalog,
        schedules,
        bookings,
        classes,
        payments,
        booking_lists,
        public,
    ):
        # Any route can fail unexpectedly; say so once for all of them.
        app.include_router(module.router, responses=problem_responses(500))
    app.include_router(operations_router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, object]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
            servers=app.servers,
            contact=app.contact,
        )
        # Routes reference the Problem schema by $ref; register it, and the schemas it
        # nests (ProblemIssue), once.
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas.update(problem.pop("$defs", {}))
        schemas["Problem"] = problem
        _document_body_limit(schema)
        _document_validation_problems(schema)
        _document_outages(schema)
        _document_headers(schema)
        app.openapi_schema = schema
    return app.openapi_schema


_PROBLEM_CONTENT = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every operation of the document, with its path (what each `_document_*` walks)."""
    for path, item in schema.get("paths", {}).items():
        for operation in item.values():
            yield path, operation


def _document_body_limit(schema: dict[str, Any]) -> None:
    """Every operation that takes a body may answer 413 `body_too_large` (`BodyLimitMiddleware`)."""
    too_large = {
        "description": "The body is larger than the route accepts (`body_too_large`, naming its `limit`)",
        "content": _PROBLEM_CONTENT,
    }
    for _, operation in _operations(schema):
        if "requestBody" in operation:
            operation["responses"].setdefault("413", too_large)


def _document_validation_problems(schema: dict[str, Any]) -> None:
    """FastAPI documents its own 422 shape (`HTTPValidationError`); the server answers a
    validation problem+json (`validation_failed`, each field and rule in `errors`), so a
    generated client reading `error.code` there type-checks."""
    invalid = {
        "description": "The input breaks a rule (`validation_failed`; `errors` names each field and rule)",
        "content": _PROBLEM_CONTENT,
    }
    for _, operation in _operations(schema):
        if "422" in operation.get("responses", {}):
            operation["responses"]["422"] = invalid
    components = schema.get("components", {}).get("schemas", {})
    for fastapi_shape in ("HTTPValidationError", "ValidationError"):
        components.pop(fastapi_shape, None)


def _document_outages(schema: dict[str, Any]) -> None:
    """Any operation that reads the database answers 503 `database_unavailable` with
    `Retry-After` while it cannot be reached (`db.errors.unreachable`)."""
    unavailable = {
        "description": "The database cannot be reached (`database_unavailable`): retry after `Retry-After`",
        "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
        "content": _PROBLEM_CONTENT,
    }
    for path, operation in _operations(schema):
        if path not in ("/healthz", "/metrics", "/readyz"):  # (no database read; readiness has its own 503)
            operation["responses"].setdefault("503", unavailable)


_ETAG = {
    "description": "The resource's version, quoted: send it back in `If-Match` to change it",
    "schema": {"type": "string", "examples": ['"3"']},
}
_REPLAYED = {
    "description": "`true` when this is the stored answer to an earlier request with the same "
    "`Idempotency-Key` (nothing was done again)",
    "schema": {"type": "string", "enum": ["true"]},
}
_RETRY_AFTER = {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}


def _document_headers(schema: dict[str, Any]) -> None:
    """The headers the server sends, where it sends them: `ETag` with every versioned
    resource (a body with a `version`), `Idempotent-Replayed` on operations that take an
    `Idempotency-Key`, `Retry-After` on every 429."""
    components = schema.get("components", {}).get("schemas", {})

    def versioned(answer: dict[str, Any]) -> bool:
        ref = answer.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
        return "version" in components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {})

    for _, operation in _operations(schema):
        names = {p["name"].lower() for p in operation.get("parameters", []) if p.get("in") == "header"}
        for code, answer in operation.get("responses", {}).items():
            headers = answer.setdefault("headers", {})
            if code.startswith("2") and versioned(answer):
                headers.setdefault("ETag", _ETAG)
            if code.startswith("2") and "idempotency-key" in names:
                headers.setdefault("Idempotent-Replayed", _REPLAYED)
            if code == "429":
                headers.setdefault("Retry-After", _RETRY_AFTER)
            if not headers:
                del answer["headers"]
