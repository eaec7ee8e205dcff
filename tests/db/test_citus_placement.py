"""Where `booklnk citus-distribute` puts each table of the migrated schema, and what it says
on a server without Citus. (The distribution itself runs only on a Citus cluster, which no
CI job has: bench/README.md's "Booklnk on Citus" has the run and its figures.)"""

from __future__ import annotations

import asyncio
import os
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from test_migrations import GLOBAL_TABLES

from booklnk.db import citus
from booklnk.tables import metadata
from citus_cluster import not_on_citus


async def _schema(owner_engine: AsyncEngine) -> list[tuple[str, bool]]:
    async with owner_engine.connect() as conn:
        rows = await conn.execute(citus._TABLES, {"column": citus.DISTRIBUTION_COLUMN})
        return [(name, tenant) for name, tenant in rows]


async def test_every_table_of_the_schema_has_its_place(owner_engine: AsyncEngine) -> None:
    placement = citus.place(await _schema(owner_engine))
    ours = {t.name for t in metadata.sorted_tables}
    # Every tenant table is distributed by business, every global one copied or kept on
    # the coordinator; nothing of the job queue's or Alembic's is touched.
    assert set(placement.distributed) == ours - GLOBAL_TABLES
    assert set(placement.reference) | set(placement.coordinator) == GLOBAL_TABLES
    assert not set(placement.reference) & set(placement.coordinator)


def test_a_table_named_for_citus_must_be_in_the_schema() -> None:
    with pytest.raises(ValueError, match="payment_order"):
        citus.place([(t, False) for t in (*citus.REFERENCE, *citus.COORDINATOR) if t != "payment_order"])


@not_on_citus("the test's database is one with Citus")
async def test_on_a_server_without_citus_the_command_says_so_and_changes_nothing(
    database_url: str, owner_engine: AsyncEngine
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "booklnk.cli",
        "citus-distribute",
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await process.communicate()
    assert process.returncode == 1
    assert "no citus extension" in stderr.decode()
    async with owner_engine.connect() as conn:
        pending = await conn.execute(text("SELECT to_regclass('booklnk_citus_pending_fk') IS NULL"))
        assert pending.scalar_one()


def test_the_workers_are_reached_as_the_coordinators_user_on_their_own_addresses() -> None:
    coordinator = "postgresql+asyncpg://postgres:secret@127.0.0.1:9700/postgres"
    assert citus.node_urls(coordinator, ["127.0.0.1:9701", "10.0.0.2:5432"]) == [
        coordinator,
        "postgresql+asyncpg://postgres:secret@127.0.0.1:9701/postgres",
        "postgresql+asyncpg://postgres:secret@10.0.0.2:5432/postgres",
    ]
