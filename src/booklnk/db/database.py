"""Engine, sessions and the per-transaction security context.

Every transaction the application opens switches to the unprivileged application role
and states whose request it serves (``app.user_id``) and which tenant it may touch
(``app.tenant_id``). Row-level security policies read those settings, so a query that
forgets its ``business_id`` filter still cannot see another tenant's rows.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

_CONTEXT_SQL = text(
    "SELECT set_config('role', :role, true),"
    " set_config('app.user_id', :user_id, true),"
    " set_config('app.tenant_id', :tenant_id, true)"
)
_TENANT_SQL = text("SELECT set_config('app.tenant_id', :tenant_id, true)")


class Database:
    def __init__(self, url: str, *, app_role: str, pool_size: int = 10) -> None:
        self.url = url
        self.app_role = app_role
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            # Errors would otherwise quote bound values (password hashes, emails) in logs.
            hide_parameters=True,
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(
        self, *, user_id: uuid.UUID | None = None, tenant_id: uuid.UUID | None = None
    ) -> AsyncIterator[AsyncSession]:
        """One unit of work as the application role; commits on success, rolls back on error."""
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                _CONTEXT_SQL,
                {
                    "role": self.app_role,
                    "user_id": str(user_id) if user_id else "",
                    "tenant_id": str(tenant_id) if tenant_id else "",
                },
            )
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


async def set_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Narrow the current transaction to one tenant (once the route knows which)."""
    await session.execute(_TENANT_SQL, {"tenant_id": str(tenant_id)})
