"""The minimal stack, the ceiling that issue 13 reads Booklnk's booking POST against: FastAPI
+ uvicorn (2 workers) + asyncpg, committing one exclusion-guarded insert per POST, nothing
else (no middleware, no SQLAlchemy, no role or context set-up, no access log).

`bench/stack.py --serve-minimal PORT` serves it; uvicorn imports the factory from here.
Each `POST /insert` carries `{"n": <int>}` and inserts row n of `bench_ceiling`, whose
period is disjoint from every other row's, in `BEGIN; INSERT; COMMIT` on a connection from
the worker's asyncpg pool (as many connections as the API's pool per worker).

`POST /insert/after/{k}` is the same insert after k more round trips in its transaction
(`SELECT $1::int`, one parameter, one row back: as little work as a statement can carry):
the curve of what round trips alone cost a request here, against the booking's count."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import asyncpg  # type: ignore[import-untyped]
import uvicorn
from fastapi import FastAPI, Request
from pydantic import BaseModel

from booklnk.config import Settings

from benchlib.output import BENCH_DIR
from benchlib.processes import WORKERS

INSERT = "INSERT INTO bench_ceiling (lane, period) VALUES ($1, tstzrange($2, $3))"
ROUND_TRIP = "SELECT $1::int"
EPOCH = datetime(2030, 1, 1, tzinfo=UTC)
LANE = 2  # the in-process ceilings of bench/booking.py use lane 1


class Row(BaseModel):
    n: int


def minimal_app() -> FastAPI:
    dsn = os.environ["DATABASE_URL"]  # libpq form (processes.server_env)
    pool_size = Settings().db_pool_size

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with asyncpg.create_pool(dsn, min_size=pool_size, max_size=pool_size) as pool:
            app.state.pool = pool
            yield

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.post("/insert", status_code=201)
    async def insert(row: Row, request: Request) -> dict[str, int]:
        lo = EPOCH + timedelta(minutes=10 * row.n)
        pool: asyncpg.Pool = request.app.state.pool
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(INSERT, LANE, lo, lo + timedelta(minutes=5))
        return {"n": row.n}

    # Declared after /insert, so the ceiling's own route is matched first, as before.
    @app.post("/insert/after/{trips}", status_code=201)
    async def insert_after(trips: int, row: Row, request: Request) -> dict[str, int]:
        lo = EPOCH + timedelta(minutes=10 * row.n)
        pool: asyncpg.Pool = request.app.state.pool
        async with pool.acquire() as conn, conn.transaction():
            for _ in range(trips):
                await conn.fetchval(ROUND_TRIP, row.n)
            await conn.execute(INSERT, LANE, lo, lo + timedelta(minutes=5))
        return {"n": row.n}

    @app.get("/readyz")
    async def ready(request: Request) -> dict[str, str]:
        pool: asyncpg.Pool = request.app.state.pool
        await pool.fetchval("SELECT 1")
        return {"status": "ok"}

    return app


def serve_minimal(port: int) -> None:
    uvicorn.run(
        "benchlib.minimal_stack:minimal_app",
        factory=True,
        app_dir=str(BENCH_DIR),
        host="127.0.0.1",
        port=port,
        workers=WORKERS,
        access_log=False,
        log_level="info",  # the start-up lines only: processes.wait_ready counts them
    )
