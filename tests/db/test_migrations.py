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


# Every unique key and exclusion of a tenant table, with its columns, and the foreign keys
# that set only some of their columns to null.
_TENANT_KEYS = """
SELECT c.conrelid::regclass::text, c.conname, c.contype::text,
       array(SELECT a.attname::text FROM unnest(c.conkey) AS k(n)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n)
FROM pg_constraint c
WHERE c.conrelid::regclass::text = ANY(:tables) AND c.contype IN ('p', 'u', 'x')
ORDER BY 1, 2
"""


async def _tenant_keys(owner_engine: AsyncEngine) -> list[tuple[str, str, str, list[str]]]:
    tenant_tables = sorted(t.name for t in metadata.sorted_tables if t.name not in GLOBAL_TABLES)
    async with owner_engine.connect() as conn:
        rows = await conn.execute(text(_TENANT_KEYS), {"tables": tenant_tables})
    return [(table, name, kind, columns) for table, name, kind, columns in rows]


async def _has_btree_gist(owner_engine: AsyncEngine) -> bool:
    async with owner_engine.connect() as conn:
        found = await conn.execute(
            text("SELECT count(*) FROM pg_available_extensions WHERE name = 'btree_gist'")
        )
        return bool(found.scalar_one())


async def test_every_unique_key_of_a_tenant_table_names_its_business(owner_engine: AsyncEngine) -> None:
    """A PostgreSQL sharded by business (Citus) checks a unique key only within a shard:
    one that leaves the business out cannot be distributed (there were six)."""
    keys = await _tenant_keys(owner_engine)
    assert [k for k in keys if k[2] in "pu" and "business_id" not in k[3]] == []
    assert len([k for k in keys if k[2] == "u"]) >= 10


async def test_the_no_overlap_constraint_keys_on_the_business_where_btree_gist_is_there(
    owner_engine: AsyncEngine,
) -> None:
    """The form Citus requires where the server can build it (CI's PostgreSQL 15 has the
    contrib modules); the core-GiST form on the embedded server, which has not."""
    exclusions = [
        (name, columns) for _, name, kind, columns in await _tenant_keys(owner_engine) if kind == "x"
    ]
    expected = ["business_id", "span"] if await _has_btree_gist(owner_engine) else ["span"]
    assert exclusions == [("ex_allocation_overlap", expected)]


async def test_no_foreign_key_sets_only_some_of_its_columns_to_null(owner_engine: AsyncEngine) -> None:
    """`ON DELETE SET NULL (column)`, which Citus does not accept (the staff member's link
    to a member is unlinked by `flows.team.remove_member` instead)."""
    async with owner_engine.connect() as conn:
        rows = await conn.execute(text("SELECT conname FROM pg_constraint WHERE confdelsetcols IS NOT NULL"))
        assert list(rows) == []
