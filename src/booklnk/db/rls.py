"""SQL used by migrations to put a tenant table behind row-level security."""

from __future__ import annotations

APP_ROLE = "booklnk_app"


def tenant_isolation_sql(table: str, tenant_column: str = "business_id") -> list[str]:
    """Enable and force RLS on `table`, visible only inside its tenant's context.

    FORCE makes the policy apply to the table owner too; the application additionally
    runs as APP_ROLE, which owns nothing and is no superuser.
    """
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING ({tenant_column} = booklnk_current_tenant()) "
        f"WITH CHECK ({tenant_column} = booklnk_current_tenant())",
    ]
