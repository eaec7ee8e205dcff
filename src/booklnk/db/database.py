"""Engine, sessions and the per-transaction security context.

Every transaction the application opens switches to the unprivileged application role
and states whose request it serves (``app.user_id``) and which tenant it may touch
(``app.tenant_id``). Row-level security policies read those settings, so a query that
forgets its ``business_id`` filter still cannot see another tenant's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from booklnk.db import pool_metrics

# By `SET LOCAL` in a function (migration 0032), not `set_config`: on Citus only the
# statement reaches the workers, whose shards' policies read the tenant.
_CONTEXT_SQL = text("SELECT booklnk_enter(:role, :user_id, :tenant_id)")
_TENANT_SQL = text("SELECT booklnk_enter_tenant(:tenant_id)")
_ACROSS_TENANTS_SQL = text("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'")


def application_name(prefix: str = "booklnk") -> str:
    """What this process's connections call themselves (`pg_stat_activity.application_name`):
    the prefix and the pid, so an operator can tell the processes of a deployment apart."""
    return f"{prefix}-{os.getpid()}"


class Database:
    def __init__(self, url: str, *, app_role: str, pool_size: int = 10, pool_timeout: float = 5.0) -> None:
        self.url = url
        self.app_role = app_role
        self.engine: AsyncEngine = create_async_engine(
            url,
            # A fixed set of connections, no overflow: under a burst, requests wait their
            # turn for one (up to `pool_timeout` seconds, then 503 with Retry-After) instead
            # of opening and closing a connection each (bench/stack.py measured throughput
            # falling by a third at 32 requests in flight when the overflow churned).
            pool_size=pool_size,
            max_overflow=0,
            pool_timeout=pool_timeout,
            # No pre-ping (a round trip on every checkout, 15-25 % of the minimal stack's
            # throughput): `transaction` opens again once on a connection found dead.
            pool_pre_ping=False,
            # Errors would otherwise quote bound values (password hashes, emails) in logs.
            hide_parameters=True,
        )
        # Named at connect time, not here: a process forked after this engine was made
        # still names its own connections by its own pid.
        event.listen(self.engine.sync_engine, "do_connect", _name_connection)
        self._capacity = pool_size
        pool_metrics.observe(self.engine, self._capacity)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(
        self, *, user_id: uuid.UUID | None = None, tenant_id: uuid.UUID | None = None
    ) -> AsyncIterator[AsyncSession]:
        """One unit of work as the application role; commits on success, rolls back on error."""
        context = {
            "role": self.app_role,
            "user_id": str(user_id) if user_id else "",
            "tenant_id": str(tenant_id) if tenant_id else "",
        }
        async with self.sessionmaker() as session:
            try:
                await session.execute(_CONTEXT_SQL, context)
            except DBAPIError as exc:
                # A pooled connection the server closed meanwhile (a restart, an idle
                # timeout): nothing was done on it, so open again, once, on a new one.
                if not exc.connection_invalidated:
                    raise
                await session.rollback()
                await session.execute(_CONTEXT_SQL, context)
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            await session.commit()

    async def dispose(self) -> None:
        await self.engine.dispose()
        pool_metrics.forget(self._capacity)


# Settings every connection of the app opens with (no round trip: part of the start-up).
# No JIT: its compilation is paid per execution and is tuned for long analytic queries.
# The availability search's calendars statement, estimated above `jit_above_cost` for a
# large crew, spent 34 ms of its 120 compiling, and 400 ms more once PostgreSQL switched its
# prepared statement to the generic plan (bench/stack.py, any of 200 over 62 days).
SERVER_SETTINGS = {"jit": "off"}


def _name_connection(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
    # `params` is the engine's own (shared by every connect): set the name each time.
    params["server_settings"] = {
        **params.get("server_settings", {}),
        **SERVER_SETTINGS,
        "application_name": application_name(),
    }


async def set_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Narrow the current transaction to one tenant (once the route knows which)."""
    await session.execute(_TENANT_SQL, {"tenant_id": str(tenant_id)})


async def across_tenants(session: AsyncSession) -> None:
    """Before a transaction reads or writes several tenants' rows and then writes again:
    on Citus it then reaches each worker over one connection, because after a statement
    over many shards in parallel Citus refuses a write to a coordinator's table (the
    messages outbox). On one PostgreSQL the setting is an unread placeholder."""
    await session.execute(_ACROSS_TENANTS_SQL)
