"""Enqueue a job in the caller's transaction, so it commits or vanishes with the data
that made it necessary: no job is lost between a commit and its enqueue, and none runs
for data that was rolled back.

procrastinate defers through its own connection pool, outside our transaction; this
calls its versioned SQL API (``procrastinate_defer_jobs_v1``, the function its own
``defer`` runs) on our connection instead. The worker (``booklnk.jobs``) runs them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asgi_correlation_id import correlation_id
from sqlalchemy import TextClause, text
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


def _jobs_array(args: str = "j.args") -> str:
    """Several jobs in one round trip: the rows built from parallel arrays, in their order
    (`args`: the SQL of each one's arguments)."""
    return (
        "procrastinate_defer_jobs_v1(ARRAY("
        f"SELECT ROW(j.queue, j.task, 0, j.lock, NULL, {args}, j.scheduled_at)::procrastinate_job_to_defer_v1"
        " FROM unnest(CAST(:queues AS varchar[]), CAST(:tasks AS varchar[]), CAST(:locks AS text[]),"
        " CAST(CAST(:args AS text[]) AS jsonb[]), CAST(:scheduled AS timestamptz[]))"
        " WITH ORDINALITY AS j(queue, task, lock, args, scheduled_at, n) ORDER BY j.n))"
    )


_DEFER_MANY_SQL = text(f"SELECT unnest({_jobs_array()})")


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
    result = await session.execute(
        _DEFER_SQL,
        {
            "queue": job.queue,
            "task": job.task,
            "lock": job.lock,
            "args": _args(job),
            "scheduled_at": job.scheduled_at,
        },
    )
    return int(result.scalar_one())


async def enqueue_many(session: AsyncSession, jobs: Sequence[Job]) -> list[int]:
    """`enqueue` for several jobs in one round trip; their ids, in order."""
    if not jobs:
        return []
    result = await session.execute(_DEFER_MANY_SQL, job_params(jobs))
    return [int(i) for i in result.scalars()]


# What `deferring_column` accepts as a row's argument: a plain name, and a plain table.column.
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
_COLUMN = re.compile(r"[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*")


def deferring_column(row_argument: tuple[str, str] | None = None) -> TextClause:
    """A column (`job_ids`, their ids) that adds the jobs in the execution's parameters
    (`job_params`) to the queue once per row of the statement selecting it, and not at all
    when that statement selects no row: a write and the jobs that follow from it, in one
    round trip. Built once by its caller, for a hot path that would otherwise spend more on
    building the statement than on running it. `row_argument` (a name, and the SQL of a
    column of the selected row, both the caller's constants) adds that column to each job's
    arguments: an id the database assigns in the same statement."""
    args = "j.args"
    if row_argument is not None:
        name, column = row_argument
        if not _IDENTIFIER.fullmatch(name) or not _COLUMN.fullmatch(column):
            raise ValueError(f"not a plain argument name and column: {row_argument!r}")
        args = f"j.args || jsonb_build_object('{name}', {column})"
    return text(f"{_jobs_array(args)} AS job_ids")


def job_params(jobs: Sequence[Job]) -> dict[str, list[Any]]:
    return {
        "queues": [j.queue for j in jobs],
        "tasks": [j.task for j in jobs],
        "locks": [j.lock for j in jobs],
        "args": [_args(j) for j in jobs],
        "scheduled": [j.scheduled_at for j in jobs],
    }


def _args(job: Job) -> str:
    args = dict(job.args)
    request_id = correlation_id.get()
    if request_id is not None:
        args[REQUEST_ID] = request_id
    return json.dumps(args)


_CANCEL_WAITING = text(
    "SELECT procrastinate_cancel_job_v1(id, false, true) FROM procrastinate_jobs"
    " WHERE lock = :lock AND status = 'todo'"
)


async def cancel_waiting(session: AsyncSession, lock: str) -> int:
    """Drop the jobs still waiting under `lock` (procrastinate's versioned SQL API), in the
    session's transaction: a job scheduled for later blocks every later job of its lock
    until it runs. How many were dropped."""
    return len((await session.execute(_CANCEL_WAITING, {"lock": lock})).all())


def without_live_job(column: str, arg: str) -> str:
    """A condition: no job of task `:task` waiting or running has `column` (text) as its
    argument `arg`. An uncorrelated subquery, so that Citus can run it on the coordinator
    first (the job queue's tables stay local there) and then the query of a distributed
    table with its result: it refuses a correlated one (NOT EXISTS) across the two."""
    return (
        f"{column} NOT IN (SELECT j.args->>'{arg}' FROM procrastinate_jobs j WHERE j.task_name = :task"
        f" AND j.status IN ('todo', 'doing') AND j.args ? '{arg}')"
    )
