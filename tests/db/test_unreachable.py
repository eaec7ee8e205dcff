"""A PostgreSQL reached through a unix socket (the embedded one) that is down has no socket
file: connecting raises FileNotFoundError, which is an outage (503 with Retry-After) like a
refused TCP connection. Any other missing file is not. Before, that outage answered 500."""

from __future__ import annotations

import asyncpg
import pytest

from booklnk.db.errors import unreachable


async def test_a_missing_socket_while_connecting_is_an_outage(tmp_path: object) -> None:
    with pytest.raises(FileNotFoundError) as connecting:
        await asyncpg.connect(f"postgresql://postgres@/postgres?host={tmp_path}/gone", timeout=5)
    assert unreachable(connecting.value)


def test_another_missing_file_is_not() -> None:
    with pytest.raises(FileNotFoundError) as reading:
        open("/nonexistent/booklnk-file")  # noqa: SIM115 (it fails to open)
    assert not unreachable(reading.value)
