"""The connection pool's Prometheus metrics: how many connections are in use, how many
the pool may hold, how many were opened and how many were dropped as broken.

In use is sampled (every few seconds, by the API's and the worker's own task) rather than
counted on checkout and checkin events: the pool's own count is exact (events miss a
connection garbage-collected without being returned), and the request path does nothing more.
"""

from __future__ import annotations

import asyncio

from prometheus_client import Counter, Gauge
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

SAMPLE_SECONDS = 5.0

# (livesum: with `serve --workers N`, the sum over the live processes.)
IN_USE = Gauge(
    "booklnk_db_pool_in_use",
    f"Pooled connections checked out, sampled every {SAMPLE_SECONDS:g} s",
    multiprocess_mode="livesum",
)
CAPACITY = Gauge(
    "booklnk_db_pool_capacity",
    "Connections the pools may hold at most (size plus overflow)",
    multiprocess_mode="livesum",
)
OPENED = Counter("booklnk_db_connections_opened_total", "Database connections opened")
DROPPED = Counter(
    "booklnk_db_connections_dropped_total",
    "Connections dropped as broken (a database restart, a network cut)",
)


def observe(engine: AsyncEngine, capacity: int) -> None:
    """Count `engine`'s pool: connections opened and dropped (rare events), its capacity."""
    pool = engine.sync_engine.pool
    event.listen(pool, "connect", lambda *_: OPENED.inc())
    event.listen(pool, "invalidate", lambda *_: DROPPED.inc())
    CAPACITY.inc(capacity)


def forget(capacity: int) -> None:
    """A disposed pool may hold nothing any more."""
    CAPACITY.dec(capacity)


def sample(engine: AsyncEngine) -> None:
    """The in-use gauge from the pool's own count (one pool a process: the API's or the worker's)."""
    IN_USE.set(engine.sync_engine.pool.checkedout())  # type: ignore[attr-defined]


async def keep_sampling(engine: AsyncEngine) -> None:
    """Sample until cancelled (the process's lifespan)."""
    while True:
        sample(engine)
        await asyncio.sleep(SAMPLE_SECONDS)
