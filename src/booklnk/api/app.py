"""The FastAPI application factory: nothing connects until the app starts."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from booklnk.api import limits, openapi_document
from booklnk.api.body_limit import BodyLimitMiddleware
from booklnk.api.cors import allow_browsers
from booklnk.api.observability import ObservedRequests
from booklnk.api.observability import router as operations_router
from booklnk.api.problems import UnexpectedErrors, install_problem_handlers, problem_responses
from booklnk.api.rate_limit import RateLimiter
from booklnk.api.routes import (
    audit,
    auth,
    booking_lists,
    bookings,
    business_types,
    businesses,
    catalog,
    classes,
    customers,
    exports,
    message_reports,
    pay_links,
    payments,
    public,
    schedules,
    webhook_endpoints,
)
from booklnk.bootstrap import KASHIER_WEBHOOK_PATH, load_business_types, passwords_for
from booklnk.config import Settings
from booklnk.db import pool_metrics
from booklnk.db.database import Database
from booklnk.kernel.clock import Clock, SystemClock
from booklnk.tracing import API_SERVICE, start_tracing
from booklnk.web import site

TAGS = [
    {"name": "auth", "description": "Accounts, logins and tokens."},
    {"name": "businesses", "description": "Businesses, their settings, members and invitations."},
    {"name": "business types", "description": "The kinds of business, as configuration (platform admins)."},
    {"name": "catalog", "description": "Services, staff, resources, their hours, overrides and time off."},
    {"name": "bookings", "description": "Availability, booking, rescheduling, staff actions and money."},
    {"name": "classes", "description": "Class series, sessions, seats and waitlists."},
    {"name": "customers", "description": "A business's customer records: search, history, notes and tags."},
    {"name": "payments", "description": "Kashier checkout, webhooks, returns and reconciliation."},
    {"name": "messages", "description": "What WhatsApp and the SMS gateway report about messages sent."},
    {
        "name": "webhooks",
        "description": "Outgoing webhooks to integrators: endpoints, deliveries, redelivery.",
    },
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
        sampling = asyncio.create_task(pool_metrics.keep_sampling(db.engine), name="pool metrics")
        yield
        sampling.cancel()
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
    app.add_middleware(UnexpectedErrors)  # innermost: a 500 passes every middleware below
    # A refused body is still logged, counted and given a request id.
    app.add_middleware(
        BodyLimitMiddleware,
        default=settings.max_body_bytes,
        per_path={
            path: settings.max_webhook_body_bytes
            for path in (KASHIER_WEBHOOK_PATH, message_reports.WHATSAPP_PATH, message_reports.CEQUENS_PATH)
        },
    )
    app.add_middleware(ObservedRequests)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID")
    allow_browsers(app, settings.cors_allowed_origins)
    # Off unless BOOKLNK_OTEL_ENABLED: then server spans (outermost) and the engine's SQL.
    traced = app.state.tracing = start_tracing(settings, API_SERVICE)
    if traced is not None:
        traced.instrument_app(app)
        traced.instrument_engine(db.engine)

    for module in (
        auth,
        audit,
        businesses,
        business_types,
        catalog,
        schedules,
        bookings,
        classes,
        payments,
        booking_lists,
        customers,
        exports,
        public,
        message_reports,
        pay_links,
        webhook_endpoints,
    ):
        # Any route can fail unexpectedly; say so once for all of them.
        app.include_router(module.router, responses=problem_responses(500))
    app.include_router(operations_router)
    site.install(app)  # the web app's pages, after every API route
    app.openapi = lambda: openapi_document.build(app)  # type: ignore[method-assign]
    return app
