"""The stack-ceiling app: FastAPI with the API's middleware, logging, pool and transaction
set-up, doing one guarded insert into `bench_ceiling` per request. `bench/booking.py
--serve-ceiling PORT` serves it under uvicorn (2 workers), which imports it from here."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import uvicorn
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.api.observability import ObservedRequests
from booklnk.bootstrap import open_database
from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.logging import configure_logging

from benchlib.output import BENCH_DIR
from benchlib.processes import WORKERS

CEILING_INSERT = text("INSERT INTO bench_ceiling (lane, period) VALUES (:lane, tstzrange(:lo, :hi))")
CEILING_EPOCH = datetime(2030, 1, 1, tzinfo=UTC)
CEILING_ACTOR = uuid.UUID(int=1)  # app.user_id of the ceiling transactions (no row behind it)


async def ceiling_unit_of_work(request: Request) -> AsyncIterator[AsyncSession]:
    """As the API's `unit_of_work`: the app's pool and role set-up, committed before the
    response is sent."""
    db: Database = request.app.state.db
    async with db.transaction(user_id=CEILING_ACTOR) as session:
        yield session


CeilingSession = Annotated[AsyncSession, Depends(ceiling_unit_of_work, scope="function")]
ceiling_routes = APIRouter()


class Inserted(BaseModel):
    n: int


@ceiling_routes.post("/insert/{n}", status_code=201, response_model=Inserted)
async def insert_one(n: int, session: CeilingSession) -> Inserted:
    await session.execute(CEILING_INSERT, span_of(n))
    return Inserted(n=n)


@ceiling_routes.get("/readyz")
async def ceiling_ready(session: CeilingSession) -> dict[str, str]:
    await session.execute(text("SELECT 1"))
    return {"status": "ok"}


def ceiling_app() -> FastAPI:
    """The stack ceiling: FastAPI with the API's middleware, logging, pool and transaction
    set-up (SET LOCAL ROLE and context), doing one guarded insert per request: everything
    the booking route has except auth and booking logic."""
    settings = Settings()
    configure_logging(json=settings.json_logs, level=settings.log_level)
    db = open_database(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await db.dispose()

    app = FastAPI(lifespan=lifespan)
    app.state.db = db
    app.add_middleware(ObservedRequests)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID")
    app.include_router(ceiling_routes)
    return app


def serve_ceiling(port: int) -> None:
    """`--serve-ceiling PORT`: run `ceiling_app` the way `booklnk serve` runs the API."""
    settings = Settings()
    configure_logging(json=settings.json_logs, level=settings.log_level)
    uvicorn.run(
        "benchlib.ceiling_app:ceiling_app",
        factory=True,
        app_dir=str(BENCH_DIR),
        host="127.0.0.1",
        port=port,
        workers=WORKERS,
        log_config=None,
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
    )


def span_of(n: int) -> dict[str, Any]:
    """Row n's period: disjoint from every other row's, so no insert ever conflicts."""
    lo = CEILING_EPOCH + timedelta(minutes=10 * n)
    return {"lane": 1, "lo": lo, "hi": lo + timedelta(minutes=5)}
