"""An embedded PostgreSQL 16 (the `pgserver` wheel) for machines without a server."""

from __future__ import annotations

from pathlib import Path

from pgserver.postgres_server import get_server


def embedded_database_url(data_dir: Path) -> str:
    """Start (or join) the embedded server kept in `data_dir` and return an asyncpg URL.

    The server keeps running until the last process using it exits, so several
    processes (API workers, tests) can share one data folder.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir.resolve())
    # pgserver answers "postgresql://postgres:@/postgres?host=<socket dir>".
    return server.get_uri().replace("postgresql://", "postgresql+asyncpg://", 1)
