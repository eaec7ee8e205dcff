"""Every connection a worker opens names its process in `pg_stat_activity`: the task pool
`booklnk-<pid>`, procrastinate's queue pool `booklnk-jobs-<pid>`. Before, the queue
connections had no name, and an operator could not tell whose they were."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from race_support import running_job_workers

pytestmark = pytest.mark.live  # starts `booklnk worker`

WAIT_SECONDS = 60.0


def _connections(url: str, database: str) -> dict[int, str]:
    """The database's client connections (backend pid: application name), the probe's own
    aside."""
    with psycopg.connect(url, autocommit=True, application_name="test-probe") as conn:
        rows = conn.execute(
            "SELECT pid, application_name FROM pg_stat_activity WHERE datname = %s"
            " AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
            (database,),
        )
        return {row[0]: row[1] for row in rows}


def test_a_workers_connections_all_name_its_process(database_url: str, tmp_path: Path) -> None:
    url = make_url(database_url).set(drivername="postgresql")
    database, plain = url.database or "", url.render_as_string(hide_password=False)
    # The suite's database is shared: the connections already open (the test process's
    # own, other modules' servers) are not the worker's.
    before = set(_connections(plain, database))
    with running_job_workers(database_url, tmp_path, 1) as (worker,):
        pid = worker.process.pid
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            new = {k: v for k, v in _connections(plain, database).items() if k not in before}
            if f"booklnk-jobs-{pid}" in new.values():
                break
            assert time.monotonic() < deadline, f"{new}\n{worker.log_tail()}"
            time.sleep(0.3)
        assert set(new.values()) <= {f"booklnk-{pid}", f"booklnk-jobs-{pid}"}, new
