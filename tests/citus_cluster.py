"""A running Citus cluster for the live tests that own their database (issue 14): set
BOOKLNK_TEST_CITUS_NODES to its nodes' data folders, the coordinator's first
("/srv/citus/coord,/srv/citus/w1,/srv/citus/w2"), and such a test gets a database of its
own made on every node, migrated and distributed by `booklnk citus-distribute`'s code, and
an outage that stops the whole cluster, or only its workers with
BOOKLNK_TEST_CITUS_OUTAGE=workers (the coordinator up, every tenant's shard away).

Citus is in no package registry this project can install from, so no CI job has one:
bench/README.md ("Booklnk on Citus") says how the cluster was built and started."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from booklnk.db import citus
from booklnk.db.migrate import upgrade_async

NODES = "BOOKLNK_TEST_CITUS_NODES"
OUTAGE = "BOOKLNK_TEST_CITUS_OUTAGE"
SHARDS = 4


@dataclass(frozen=True)
class Node:
    """One node's PostgreSQL, found by its data folder while it runs."""

    data: Path
    owner: str  # the system user it runs as: also its superuser's name (initdb's default)
    address: str  # host:port

    @classmethod
    def running(cls, data: Path) -> Node:
        # postmaster.pid: pid, folder, start time, port, socket folder, listen address, ...
        lines = (data / "postmaster.pid").read_text().splitlines()
        host = lines[5].split(",")[0].strip()
        host = "127.0.0.1" if host in ("", "*", "0.0.0.0") else host
        return cls(data, data.owner(), f"{host}:{lines[3].strip()}")

    def pg_ctl(self, *args: str) -> None:
        version = (self.data / "PG_VERSION").read_text().strip()
        binary = shutil.which("pg_ctl") or f"/usr/lib/postgresql/{version}/bin/pg_ctl"
        # Its own home: the server's libpq (the coordinator's connections to the workers)
        # looks there for client certificates, and may not read ours.
        subprocess.run(
            [binary, "-D", str(self.data), *args],
            user=self.owner,
            env={**os.environ, "HOME": pwd.getpwnam(self.owner).pw_dir},
            check=True,
            capture_output=True,
            timeout=60,
        )

    def stop(self) -> None:
        self.pg_ctl("-w", "-m", "fast", "stop")

    def start(self) -> None:
        self.pg_ctl("-w", "-l", str(self.data / "log"), "start")


@dataclass(frozen=True)
class CitusCluster:
    """The test's database on the cluster (`url`, on the coordinator), and the outage."""

    nodes: Sequence[Node]
    url: str
    only_workers: bool

    @property
    def connections_break(self) -> bool:
        return not self.only_workers

    @property
    def _outage(self) -> Sequence[Node]:
        """The nodes an outage stops: the workers alone, or every node."""
        return self.nodes[1:] if self.only_workers else self.nodes

    def stop(self) -> None:
        for node in self._outage:
            node.stop()

    def start(self) -> None:
        # The workers first: the coordinator's first statements reach them.
        for node in reversed(self._outage):
            node.start()


def configured() -> bool:
    return bool(os.environ.get(NODES))


def not_on_citus(reason: str) -> pytest.MarkDecorator:
    """A test whose means a Citus cluster does not offer (`reason`): skipped there."""
    return pytest.mark.skipif(configured(), reason=f"not on Citus: {reason}")


@contextlib.asynccontextmanager
async def cluster_database() -> AsyncIterator[CitusCluster]:
    """`booklnk_test_<random>` on every node of BOOKLNK_TEST_CITUS_NODES's cluster, migrated
    and distributed; dropped on every node afterwards (the cluster is started if the test
    left it stopped)."""
    folders = [Path(folder) for folder in os.environ[NODES].split(",") if folder]
    nodes = [Node.running(folder) for folder in folders]
    coordinator, *workers = nodes
    server = f"postgresql+asyncpg://{coordinator.owner}@{coordinator.address}/postgres"
    name = f"booklnk_test_{uuid.uuid4().hex[:10]}"
    addresses = [worker.address for worker in workers]
    cluster = CitusCluster(
        nodes,
        f"postgresql://{coordinator.owner}@{coordinator.address}/{name}",
        os.environ.get(OUTAGE) == "workers",
    )
    try:
        url = await citus.create_cluster_database(server, addresses, name)
        await upgrade_async(url)
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                # Fewer shards than a deployment's 32: still two a worker, and each test's
                # TRUNCATE of every table takes 1 s instead of 4.6 s.
                await conn.execute(text(f"SET citus.shard_count = {SHARDS}"))
                await conn.commit()
                await conn.run_sync(citus.distribute, lambda line: None)
        finally:
            await engine.dispose()
        yield cluster
    finally:
        for node in nodes:
            if not (node.data / "postmaster.pid").exists():
                node.start()
        await citus.drop_cluster_database(server, addresses, name)
