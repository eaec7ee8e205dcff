"""An embedded PostgreSQL 16 (the `pgserver` wheel, the `embedded` extra) for machines
without a server: development, demos and the tests. Imported only when used: production
sets DATABASE_URL and installs without it (the wheel has no arm64 or Python 3.13 build)."""

from __future__ import annotations

from pathlib import Path


class EmbeddedUnavailable(RuntimeError):
    """No DATABASE_URL, and no embedded PostgreSQL installed to start instead."""


def embedded_database_url(data_dir: Path) -> str:
    """Start (or join) the embedded server kept in `data_dir` and return an asyncpg URL.

    The server keeps running until the last process using it exits, so several
    processes (API workers, tests) can share one data folder.
    """
    try:
        from pgserver.postgres_server import get_server
    except ImportError:
        raise EmbeddedUnavailable(
            "DATABASE_URL is not set and the embedded PostgreSQL is not installed:"
            " set DATABASE_URL, or install booklnk with its `embedded` extra"
        ) from None
    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir.resolve())
    # pgserver answers "postgresql://postgres:@/postgres?host=<socket dir>".
    return server.get_uri().replace("postgresql://", "postgresql+asyncpg://", 1)
