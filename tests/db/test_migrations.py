"""The migrated schema is the one the models describe, and every tenant table is walled off."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.db.migrate import is_ours
from booklnk.db.rls import APP_ROLE
from booklnk.tables import metadata

# Tables without a tenant key: accounts, credentials and platform-wide reference data.
GLOBAL_TABLES = {
    "app_user",
    "refresh_token",
    "login_throttle",
    "business_type",
    "business",
    # Payments arrive without a tenant: the order-id index routes them, deliveries wait there.
    "payment_order",
    "webhook_delivery",
    # Accounts' codes and the messages about accounts: the platform's, outside any tenant.
    "one_time_code",
    "outbox_message",
    "message_attempt",
    "delivery_report",
}
# Money is never changed or deleted by the application, only added to.
APPEND_ONLY = {"ledger_entry", "booking_status_change", "audit_event"}


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": is_ours})
    return list(compare_metadata(context, metadata))


async def test_migrations_match_the_models(owner_engine: AsyncEngine) -> None:
    """What `alembic revision --autogenerate` would emit: nothing, for every table."""
    async with owner_engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_every_tenant_table_has_forced_rls_and_is_granted_to_the_app_role(
    owner_engine: AsyncEngine,
) -> None:
    tenant_tables = sorted(t.name for t in metadata.sorted_tables if t.name not in GLOBAL_TABLES)
    assert "service" in tenant_tables
    async with owner_engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT relname, relrowsecurity, relforcerowsecurity,"
                " has_table_privilege(:role, oid, 'SELECT, INSERT, UPDATE, DELETE')"
                " FROM pg_class WHERE relname = ANY(:tables) AND relkind = 'r' ORDER BY relname"
            ),
            {"role": APP_ROLE, "tables": tenant_tables},
        )
        assert [tuple(r) for r in rows] == [(t, True, True, True) for t in tenant_tables]


async def test_every_tenant_table_is_keyed_by_business_first(owner_engine: AsyncEngine) -> None:
    """Tenant key first in the primary key: the shape a tenant-sharded PostgreSQL needs."""
    tenant_tables = [t for t in metadata.sorted_tables if t.name not in GLOBAL_TABLES]
    assert [t.name for t in tenant_tables if t.primary_key.columns.keys()[0] != "business_id"] == []


async def test_the_ledger_and_the_logs_are_append_only_for_the_app_role(owner_engine: AsyncEngine) -> None:
    async with owner_engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT relname, has_table_privilege(:role, oid, 'INSERT'),"
                " has_table_privilege(:role, oid, 'UPDATE'), has_table_privilege(:role, oid, 'DELETE')"
                " FROM pg_class WHERE relname = ANY(:tables) AND relkind = 'r' ORDER BY relname"
            ),
            {"role": APP_ROLE, "tables": sorted(APPEND_ONLY)},
        )
        assert [tuple(r) for r in rows] == [(t, True, False, False) for t in sorted(APPEND_ONLY)]
