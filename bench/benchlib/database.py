"""The benchmark's own database: create and migrate it (with the ceilings' scratch table),
run admin statements (CREATE/DROP DATABASE), and describe the machine and server."""

from __future__ import annotations

import contextlib
import os
import platform
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from booklnk.db.migrate import upgrade_async

APP_ROLE = "booklnk_app"


async def admin(server_url: str, sql: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def create_database(server_url: str, name: str, bench_url: str) -> None:
    await admin(server_url, f'CREATE DATABASE "{name}"')
    await upgrade_async(bench_url)
    engine = create_async_engine(bench_url)
    try:
        async with engine.begin() as conn:
            # The ceilings' scratch table: guarded exactly like allocation (the same stored
            # lane-folded span, the same exclusion constraint on active rows).
            await conn.execute(
                text(
                    "CREATE TABLE bench_ceiling (lane bigint NOT NULL, period tstzrange NOT NULL,"
                    " active boolean NOT NULL DEFAULT true,"
                    " span int8range GENERATED ALWAYS AS (booklnk_span(lane, period)) STORED,"
                    " CONSTRAINT ex_bench_ceiling EXCLUDE USING gist (span WITH &&) WHERE (active))"
                )
            )
            await conn.execute(text(f"GRANT SELECT, INSERT ON bench_ceiling TO {APP_ROLE}"))
    finally:
        await engine.dispose()


async def machine_info(engine: AsyncEngine, kind: str) -> dict[str, Any]:
    async with engine.connect() as conn:
        version = (await conn.execute(text("SHOW server_version"))).scalar_one()
    cpu = next(
        (line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")), "unknown"
    )
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "postgresql": version,
        "postgresql_server": kind,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _cpuinfo() -> list[str]:
    with contextlib.suppress(OSError):
        return Path("/proc/cpuinfo").read_text().splitlines()
    return []
