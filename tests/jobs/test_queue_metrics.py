"""The worker reports its queue by queue, task and status, and how long the oldest due job
of each task has waited: a stuck task shows as a growing age, not only as a count."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.db.database import Database
from booklnk.db.jobs import Job, enqueue
from booklnk.jobs import metrics
from booklnk.jobs.worker import WAITING_SQL


@pytest.fixture
async def task(owner_engine: AsyncEngine) -> AsyncIterator[str]:
    """A task name of this test's own, its jobs removed afterwards (no worker knows it)."""
    name = f"test.queue_metrics_{uuid.uuid4().hex[:8]}"
    yield name
    async with owner_engine.begin() as conn:
        await conn.execute(text("DELETE FROM procrastinate_jobs WHERE task_name = :t"), {"t": name})


async def test_the_queue_is_reported_by_task_with_the_oldest_due_age(
    db: Database, owner_engine: AsyncEngine, task: str
) -> None:
    async with db.transaction() as session:
        await enqueue(session, Job(task, {"n": 1}))
        await enqueue(session, Job(task, {"n": 2}))
        # Not due for an hour: counted as waiting, but not as late.
        await enqueue(session, Job(task, {"n": 3}, scheduled_at=datetime.now(UTC) + timedelta(hours=1)))
    async with owner_engine.connect() as conn:
        # The first two were deferred "a minute ago".
        await conn.execute(
            text(
                "UPDATE procrastinate_events SET at = at - interval '60 seconds'"
                " WHERE type = 'deferred' AND job_id IN"
                " (SELECT id FROM procrastinate_jobs WHERE task_name = :t AND scheduled_at IS NULL)"
            ),
            {"t": task},
        )
        await conn.commit()
        rows = [dict(row) for row in (await conn.execute(text(WAITING_SQL))).mappings()]
    metrics.record_waiting(rows)

    assert (
        REGISTRY.get_sample_value(
            "booklnk_jobs_waiting", {"queue": "default", "task": task, "status": "todo"}
        )
        == 3
    )
    age = REGISTRY.get_sample_value("booklnk_jobs_oldest_due_seconds", {"queue": "default", "task": task})
    assert age is not None
    assert 60 <= age < 120
