"""The worker's Prometheus metrics, and the middleware that counts every job it runs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from typing import Any

from procrastinate import JobContext
from procrastinate.middleware import AsyncCallNext
from procrastinate.worker import Worker
from prometheus_client import Counter, Gauge, Histogram

JOBS = Counter("booklnk_jobs_total", "Jobs run, by task and outcome", ["queue", "task", "outcome"])
JOB_SECONDS = Histogram(
    "booklnk_job_duration_seconds",
    "How long a job ran",
    ["queue", "task"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
QUEUED = Gauge(
    "booklnk_jobs_waiting", "Jobs by queue, task and status (todo, doing)", ["queue", "task", "status"]
)
OLDEST_DUE = Gauge(
    "booklnk_jobs_oldest_due_seconds",
    "How long the oldest due job of a queue and task has waited to run",
    ["queue", "task"],
)
HEARTBEAT_AGE = Gauge("booklnk_worker_heartbeat_age_seconds", "Age of this process's oldest worker heartbeat")
RUNNING = Gauge("booklnk_worker_running", "1 while the worker runs, 0 while it reconnects to its database")
RESTARTS = Counter("booklnk_worker_restarts_total", "Worker runs ended by a database or connection failure")
STALLED_RETRIED = Counter("booklnk_jobs_stalled_retried_total", "Jobs of dead workers run again")
MESSAGES = Counter(
    "booklnk_messages_total", "Message deliveries by outcome (sent, failed, expired, already)", ["outcome"]
)
WEBHOOKS_SENT = Counter(
    "booklnk_outgoing_webhooks_total", "Outgoing webhook delivery attempts, by outcome", ["outcome"]
)
REFUND_ANSWERS = Counter("booklnk_refund_answers_total", "Kashier's answers to refund calls", ["outcome"])
WEBHOOKS_APPLIED = Counter(
    "booklnk_webhooks_applied_total",
    "Kashier deliveries applied, by what they did (confirmed, refund_recorded, flagged_*, …)",
    ["outcome"],
)
HOLDS_LAPSED = Counter(
    "booklnk_holds_lapsed_total",
    "Unpaid holds the worker expired, by its expiry job or the sweep (a booking request that finds a"
    " lapsed hold in its way expires it on the spot, uncounted)",
    ["by"],
)
PROMOTIONS = Counter("booklnk_waitlist_promotions_total", "Class seats given to the waitlist's next")
MISMATCHES = Counter(
    "booklnk_reconciliation_mismatches_total", "New reconciliation mismatches, by kind", ["kind"]
)


def record_waiting(rows: Iterable[Mapping[str, Any]]) -> None:
    """The queue as `worker.WAITING_SQL` read it: gauges of tasks no longer waiting go."""
    QUEUED.clear()
    OLDEST_DUE.clear()
    for row in rows:
        QUEUED.labels(row["queue"], row["task"], row["status"]).set(row["jobs"])
        if row["status"] == "todo":
            OLDEST_DUE.labels(row["queue"], row["task"]).set(float(row["oldest_due_seconds"]))


async def count_job(call_next: AsyncCallNext, context: JobContext, worker: Worker) -> Any:
    """Worker middleware: each job's outcome (success, error, cancelled) and duration."""
    job = context.job
    started = time.perf_counter()
    outcome = "error"
    try:
        result = await call_next()
        outcome = "success"
        return result
    except asyncio.CancelledError:
        outcome = "cancelled"
        raise
    finally:
        JOBS.labels(job.queue, job.task_name, outcome).inc()
        JOB_SECONDS.labels(job.queue, job.task_name).observe(time.perf_counter() - started)
