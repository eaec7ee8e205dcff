"""(d) The ceilings to read booking throughput against: one guarded insert per
transaction from this process (in the app's transaction, and bare), and per HTTP request
to the stack-ceiling app."""

from __future__ import annotations

from typing import Any

import httpx

from booklnk.db.database import Database

from benchlib.ceiling_app import CEILING_ACTOR, CEILING_INSERT, span_of
from benchlib.scenario import CONCURRENCY, Budget
from benchlib.stats import closed_loop


async def db_ceiling(db: Database, base: int, budget: Budget, *, bare: bool) -> dict[str, Any]:
    """One-row guarded inserts from this process's pool, no HTTP. `bare`: BEGIN/INSERT/COMMIT
    only; otherwise in `Database.transaction` (SET LOCAL ROLE and context), as the app does."""

    async def app_insert(n: int) -> str:
        async with db.transaction(user_id=CEILING_ACTOR) as session:
            await session.execute(CEILING_INSERT, span_of(base + n))
        return "ok"

    async def bare_insert(n: int) -> str:
        async with db.engine.begin() as conn:
            await conn.execute(CEILING_INSERT, span_of(base + n))
        return "ok"

    op = bare_insert if bare else app_insert
    await closed_loop(op, concurrency=CONCURRENCY, seconds=1, limit=2 * CONCURRENCY)  # warm the pool
    result = await closed_loop(
        lambda n: op(n + 2 * CONCURRENCY),
        concurrency=CONCURRENCY,
        seconds=budget.ceiling_seconds,
        limit=10**9,
    )
    return result.summary("ok")


async def stack_ceiling(http: httpx.AsyncClient, base_url: str, base: int, budget: Budget) -> dict[str, Any]:
    async def post(n: int) -> str:
        return str((await http.post(f"{base_url}/insert/{base + n}")).status_code)

    await closed_loop(post, concurrency=CONCURRENCY, seconds=1, limit=2 * CONCURRENCY)
    result = await closed_loop(
        lambda n: post(n + 2 * CONCURRENCY),
        concurrency=CONCURRENCY,
        seconds=budget.ceiling_seconds,
        limit=10**9,
    )
    return result.summary("201")
