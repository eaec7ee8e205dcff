"""Statements that cannot run inside a transaction (CREATE/DROP DATABASE, a new database's
first extension), each on a connection of its own in autocommit: for the commands, the
benchmarks and the test harness that make and drop databases."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


async def execute_autocommit(url: str, sql: str) -> None:
    """Run `sql` on the database at `url` (an asyncpg URL) outside any transaction."""
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()
