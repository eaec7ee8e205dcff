"""The connection pool's Prometheus metrics: how many connections are in use, how many
the pool may hold, how many were opened and how many were dropped as broken."""

from __future__ import annotations

from prometheus_client import Counter, Gauge
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

# (livesum: with `serve --workers N`, the sum over the live processes.)
IN_USE = Gauge("booklnk_db_pool_in_use", "Pooled connections checked out now", multiprocess_mode="livesum")
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
    """Count `engine`'s pool. A checked-out connection comes back through `checkin` (an
    invalidated one included) or, when it was garbage-collected without being returned or
    taken out of the pool, through `detach` (and then no `checkin`): each ends one checkout."""
    pool = engine.sync_engine.pool
    event.listen(pool, "checkout", lambda *_: IN_USE.inc())
    event.listen(pool, "checkin", lambda *_: IN_USE.dec())
    event.listen(pool, "detach", lambda *_: IN_USE.dec())
    event.listen(pool, "connect", lambda *_: OPENED.inc())
    event.listen(pool, "invalidate", lambda *_: DROPPED.inc())
    CAPACITY.inc(capacity)


def forget(capacity: int) -> None:
    """A disposed pool may hold nothing any more."""
    CAPACITY.dec(capacity)
