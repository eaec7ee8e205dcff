"""`booklnk migrate` from an empty database: twice in a row, and two at once, both succeed."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine


@pytest.fixture
async def empty_database(database_url: str) -> AsyncIterator[str]:
    server = make_url(database_url)
    name = f"booklnk_migrate_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    await admin.dispose()


async def _migrate(url: str) -> int:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "booklnk.cli",
        "migrate",
        env={**os.environ, "DATABASE_URL": url},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    return process.returncode


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        names = set(
            (
                await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
            ).scalars()
        )
    await engine.dispose()
    return names


async def test_migrate_twice_in_a_row(empty_database: str) -> None:
    await _migrate(empty_database)
    first = await _tables(empty_database)
    await _migrate(empty_database)
    assert await _tables(empty_database) == first
    assert {"business", "app_user", "membership"} <= first


async def test_two_concurrent_migrations_queue_on_the_lock(empty_database: str) -> None:
    await asyncio.gather(_migrate(empty_database), _migrate(empty_database))
    assert "business" in await _tables(empty_database)
