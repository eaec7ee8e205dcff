"""The worker process: one procrastinate worker per queue (the gateway's own, so a slow
Kashier holds only the jobs that call it), kept running through database outages.

procrastinate stops a worker when its database connection breaks (its listener or its
heartbeat fails) or raises out of it (fetching the next job fails). Either way this loop
waits (backing off, up to ten seconds) and starts the workers again, until a signal
asks it to stop. A worker that ended without unregistering is unregistered once the
database answers, so the jobs it left `doing` are run again at once instead of after the
stalled timeout; every task re-reads state, so a rerun does only what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from procrastinate import App
from procrastinate.worker import Worker

from booklnk.db import pool_metrics
from booklnk.db.jobs import DEFAULT_QUEUE, GATEWAY_QUEUE
from booklnk.jobs import metrics, request_ids
from booklnk.jobs.health import Health
from booklnk.jobs.runtime import Runtime
from booklnk.jobs.tasks import retry_stalled_jobs
from booklnk.kernel.backoff import restart_delay
from booklnk.tracing import WORKER_SERVICE, start_tracing

log = structlog.get_logger(__name__)

# A run that lasted this long was a success: the next failure starts the backoff again.
HEALTHY_RUN_SECONDS = 60.0

_HEARTBEATS_SQL = (
    "SELECT extract(epoch FROM now() - min(last_heartbeat))::float AS age, count(*) AS registered"
    " FROM procrastinate_workers WHERE id = ANY(%(ids)s)"
)
# Per queue, task and status: how many jobs, and how long the oldest due one has waited
# (since it was due: its schedule, or when it was deferred).
WAITING_SQL = """
SELECT j.queue_name AS queue, j.task_name AS task, j.status::text AS status, count(*) AS jobs,
       coalesce(max(extract(epoch FROM now() - coalesce(j.scheduled_at, deferred.at)))
                FILTER (WHERE j.status = 'todo' AND coalesce(j.scheduled_at, now()) <= now()), 0)
           AS oldest_due_seconds
  FROM procrastinate_jobs j
  LEFT JOIN LATERAL (
       SELECT min(e.at) AS at FROM procrastinate_events e
        WHERE e.job_id = j.id AND e.type = 'deferred' AND j.status = 'todo' AND j.scheduled_at IS NULL
  ) deferred ON true
 WHERE j.status IN ('todo', 'doing')
 GROUP BY j.queue_name, j.task_name, j.status
"""


@dataclass(frozen=True, slots=True)
class Options:
    concurrency: int
    gateway_concurrency: int
    heartbeat_seconds: float
    stalled_seconds: float


# Around every job: its request id in the logs, then its outcome and duration counted.
MIDDLEWARE = (request_ids.carry_request_id, metrics.count_job)


async def run(app: App, runtime: Runtime, options: Options, health: Health) -> None:
    """Work until SIGTERM or SIGINT; a broken database connection is waited out."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # Off unless BOOKLNK_OTEL_ENABLED: then a span per job, with the SQL and Kashier calls in it.
    traced = start_tracing(runtime.settings, WORKER_SERVICE)
    middleware = list(MIDDLEWARE)
    if traced is not None:
        traced.instrument_engine(runtime.db.engine)
        middleware.append(traced.trace_job)
    sampling = asyncio.create_task(pool_metrics.keep_sampling(runtime.db.engine), name="pool metrics")
    try:
        await _run(app, runtime, options, health, stop, middleware)
    finally:
        sampling.cancel()
        if traced is not None:
            traced.shutdown()  # exports the spans still batched
    log.info("worker_stopped")


async def _run(
    app: App, runtime: Runtime, options: Options, health: Health, stop: asyncio.Event, middleware: list[Any]
) -> None:
    loop = asyncio.get_running_loop()
    failures = 0
    dead: list[int] = []
    while not stop.is_set():
        started = loop.time()
        try:
            await _forget(app, dead)
            await retry_stalled_jobs(app, options.stalled_seconds)
            reason = await _work(app, runtime, options, health, stop, dead, middleware)
        except Exception as exc:  # any failure to reach the database is waited out
            reason = f"{type(exc).__name__}: {exc}"
        if stop.is_set():
            break
        failures = 1 if loop.time() - started > HEALTHY_RUN_SECONDS else failures + 1
        delay = restart_delay(failures)
        metrics.RESTARTS.inc()
        metrics.RUNNING.set(0)
        health.reconnecting(reason)
        log.warning("worker_interrupted", reason=reason, failures=failures, restart_in=round(delay, 1))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)


async def _work(
    app: App,
    runtime: Runtime,
    options: Options,
    health: Health,
    stop: asyncio.Event,
    dead: list[int],
    middleware: list[Any],
) -> str:
    """Run the workers until `stop`, or until one of them ends on its own; stop the others
    and return why."""
    common: dict[str, Any] = {
        "install_signal_handlers": False,
        "additional_context": {"runtime": runtime},
        "update_heartbeat_interval": options.heartbeat_seconds,
        "stalled_worker_timeout": options.stalled_seconds,
        "worker_middleware": middleware,
    }
    workers = [
        Worker(app, queues=[DEFAULT_QUEUE], name=DEFAULT_QUEUE, concurrency=options.concurrency, **common),
        Worker(
            app, queues=[GATEWAY_QUEUE], name=GATEWAY_QUEUE, concurrency=options.gateway_concurrency, **common
        ),
    ]
    # procrastinate's Worker.run and .stop carry no annotations (App.run_worker_async, which
    # does, hides the worker, and with it the id its health is read by).
    runs = [
        asyncio.create_task(worker.run(), name=f"worker {worker.worker_name}")  # type: ignore[no-untyped-call]
        for worker in workers
    ]
    stopping = asyncio.create_task(stop.wait(), name="stop requested")
    watching = asyncio.create_task(_watch(app, workers, options, health), name="health")
    try:
        await asyncio.wait([*runs, stopping, watching], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for worker in workers:
            worker.stop()  # type: ignore[no-untyped-call]
        ended = await asyncio.gather(*runs, return_exceptions=True)
        for task in (stopping, watching):
            task.cancel()
        # A worker whose unregistering failed (its database was gone) left its row, and
        # its unfinished jobs `doing`: they are freed at the next start.
        dead.extend(worker.worker_id for worker in workers if worker.worker_id is not None)
    if watching.done() and not watching.cancelled():
        return watching.result()
    errors = [f"{type(e).__name__}: {e}" for e in ended if isinstance(e, BaseException)]
    return errors[0] if errors else "a worker stopped: its database connection failed"


async def _watch(app: App, workers: Sequence[Worker], options: Options, health: Health) -> str:
    """Read this process's heartbeats (as stored) and the queues, for /health and /metrics.

    Returns (so the workers start again, registered anew) when one of them is no longer
    registered: another worker pruned it as stalled after its heartbeat came late (a
    starved event loop, a slow database) and retried its jobs. Left running, its heartbeat
    would update nothing and this process would stay unhealthy for good."""
    while True:
        ids = [worker.worker_id for worker in workers if worker.worker_id is not None]
        if len(ids) < len(workers):  # still registering: look again soon, not a period later
            await asyncio.sleep(0.2)
            continue
        try:
            found = await app.connector.execute_query_one_async(_HEARTBEATS_SQL, ids=ids)
            waiting = await app.connector.execute_query_all_async(WAITING_SQL)
        except Exception as exc:  # the workers' own failure handling restarts them
            log.debug("worker_watch_failed", error=str(exc))
        else:
            if found["registered"] < len(ids):
                return "a worker was pruned as stalled (its heartbeat came late)"
            if found["age"] is not None:
                health.heartbeat(found["age"])
                health.running()
                metrics.RUNNING.set(1)
                metrics.HEARTBEAT_AGE.set(found["age"])
            metrics.record_waiting(waiting)
        await asyncio.sleep(min(options.heartbeat_seconds, 5.0))


async def _forget(app: App, dead: list[int]) -> None:
    """Unregister the workers of earlier runs that could not (their jobs left `doing` then
    have no worker, which is what `retry_stalled_jobs` looks for)."""
    while dead:
        await app.job_manager.unregister_worker(dead[-1])
        dead.pop()
