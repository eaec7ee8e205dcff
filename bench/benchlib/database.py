"""The benchmark's own database: a fresh one for a run (created, migrated with the ceilings'
scratch table, dropped at the end), admin statements (CREATE/DROP DATABASE), and the
machine's and server's description."""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from booklnk.bootstrap import database_url
from booklnk.config import Settings
from booklnk.db import citus
from booklnk.db.admin import execute_autocommit
from booklnk.db.migrate import upgrade_async

from benchlib.output import log
from benchlib.processes import Server, stop_server

APP_ROLE = "booklnk_app"


@dataclass(frozen=True)
class BenchDatabase:
    url: str  # the run's own database
    kind: str  # which server it is on, for the report
    started: str  # when the run began (UTC), for the report and its file's name


# A Citus cluster instead of one server: DATABASE_URL is its coordinator, this names its
# workers ("host:port,host:port", reached as DATABASE_URL's user). The run's database is
# made on every node, with the citus extension, and distributed by `booklnk citus-distribute`'s
# own code before the run.
CITUS_WORKERS = "BOOKLNK_BENCH_CITUS_WORKERS"


@contextlib.contextmanager
def fresh_database(servers: Collection[Server]) -> Iterator[BenchDatabase]:
    """A new database `booklnk_bench_<random>`, migrated, on the server in DATABASE_URL (else
    the embedded one, started or joined), or distributed on a Citus cluster (`CITUS_WORKERS`).
    On the way out, also on an error, Ctrl-C or SIGTERM, the servers in `servers` (the
    caller's collection, filled meanwhile) are stopped, then the database is dropped."""
    settings = Settings()
    server_url = database_url(settings)
    workers = [w for w in os.environ.get(CITUS_WORKERS, "").split(",") if w]
    kind = "embedded (pgserver)" if settings.database_url is None else "external (DATABASE_URL)"
    if workers:
        kind = f"Citus: coordinator (DATABASE_URL) and {len(workers)} workers"
    name = f"booklnk_bench_{uuid.uuid4().hex[:10]}"
    bench_url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    log(f"database {name} on the {kind} server; migrating")
    try:
        if workers:
            asyncio.run(citus.create_cluster_database(server_url, workers, name))
        asyncio.run(create_database(server_url, name, bench_url, exists=bool(workers)))
        if workers:
            asyncio.run(citus.distribute_database(bench_url, lambda line: None))
        yield BenchDatabase(bench_url, kind, started)
    finally:
        for server in list(servers):
            stop_server(server)
        log(f"dropping {name}")
        if workers:
            asyncio.run(citus.drop_cluster_database(server_url, workers, name))
        else:
            asyncio.run(execute_autocommit(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def create_database(server_url: str, name: str, bench_url: str, *, exists: bool = False) -> None:
    if not exists:
        await execute_autocommit(server_url, f'CREATE DATABASE "{name}"')
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
