"""A job carries the id of the request that enqueued it (`db.jobs.enqueue` adds it to the
job's arguments), and every log line of the job quotes it: an operator follows one
booking from its HTTP request into its expiry, refund or promotion."""

from __future__ import annotations

from typing import Any

from asgi_correlation_id import correlation_id
from procrastinate import JobContext
from procrastinate.middleware import AsyncCallNext
from procrastinate.worker import Worker

from booklnk.db.jobs import REQUEST_ID


async def carry_request_id(call_next: AsyncCallNext, context: JobContext, worker: Worker) -> Any:
    """Worker middleware: the job's request id is the current one while it runs (the logs
    read it, and the jobs it enqueues carry it on)."""
    carried = context.job.task_kwargs.get(REQUEST_ID)
    token = correlation_id.set(carried if isinstance(carried, str) else None)
    try:
        return await call_next()
    finally:
        correlation_id.reset(token)
