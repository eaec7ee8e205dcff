"""Alembic environment: async engine, one advisory lock so concurrent `migrate` runs queue."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection, pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from booklnk.db.migrate import is_ours
from booklnk.tables import metadata

# An arbitrary constant: the key of the advisory lock that serialises migrations.
MIGRATION_LOCK_KEY = 7_346_001


def _run(connection: Connection) -> None:
    connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
    context.configure(
        connection=connection, target_metadata=metadata, compare_type=True, include_name=is_ours
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.begin() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


def run() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:  # the plain `alembic` command: same resolution as the service
        from booklnk.bootstrap import database_url
        from booklnk.config import Settings

        url = database_url(Settings())
    asyncio.run(_run_async(url))


run()
