"""Enqueue a job in the caller's transaction, so it commits or vanishes with the data
that made it necessary: no job is lost between a commit and its enqueue, and none runs
for data that was rolled back.

procrastinate defers through its own connection pool, outside our transaction; this
calls its versioned SQL API (``procrastinate_defer_jobs_v1``, the function its own
``defer`` runs) on our connection instead. The worker (``booklnk.jobs``) runs them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asgi_correlation_id import correlation_id
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

DEFAULT_QUEUE = "default"
# Jobs that call Kashier wait on it (a lookup may take seconds, or the whole timeout): on
# their own queue, with their own workers, a slow gateway holds only them, never a
# payment's confirmation, a hold's expiry or a waitlist.
GATEWAY_QUEUE = "gateway"
# The argument that carries the id of the request (or job) that enqueued a job, for its
# logs (`jobs.request_ids`): every task enqueued here takes it.
REQUEST_ID = "request_id"

_DEFER_SQL = text(
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW("
    "CAST(:queue AS varchar), CAST(:task AS varchar), 0, CAST(:lock AS text), NULL,"
    " CAST(:args AS jsonb), CAST(:scheduled_at AS timestamptz)"
    ")::procrastinate_job_to_defer_v1]))"
)


@dataclass(frozen=True, slots=True)
class Job:
    """One task to run: `lock` serialises jobs sharing it (one at a time, in order, across
    queues)."""

    task: str
    args: Mapping[str, Any]
    lock: str | None = None
    scheduled_at: datetime | None = None
    queue: str = DEFAULT_QUEUE


async def enqueue(session: AsyncSession, job: Job) -> int:
    """Add `job` to the queue inside the session's transaction; returns its id. The current
    request id (of the HTTP request, or of the job enqueuing this one) rides along."""
    args = dict(job.args)
    request_id = correlation_id.get()
    if request_id is not None:
        args[REQUEST_ID] = request_id
    result = await session.execute(
        _DEFER_SQL,
        {
            "queue": job.queue,
            "task": job.task,
            "lock": job.lock,
            "args": json.dumps(args),
            "scheduled_at": job.scheduled_at,
        },
    )
    return int(result.scalar_one())
