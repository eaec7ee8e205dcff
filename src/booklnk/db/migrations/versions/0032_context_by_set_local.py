"""The request's context (the application role, the caller, the tenant) set by `SET LOCAL`,
in functions the application calls as it called `set_config` before.

On one server the two are the same. On Citus only a `SET LOCAL` statement reaches the
workers (with `citus.propagate_set_commands = 'local'`): the coordinator replays it on
every connection the transaction opens to a worker, where the shards' row-level security
reads it. A `set_config` call stays on the coordinator, and the workers' policies saw no
tenant (reads returned nothing, writes were refused). `SET` takes no parameters, so the
functions quote the values themselves (`%I`, `%L`), and the application still binds them.

Revision ID: 0032_context_by_set_local
Revises: 0031_distributable
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0032_context_by_set_local"
down_revision: str | None = "0031_distributable"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Invoker's rights (SET ROLE is refused in a SECURITY DEFINER function); VOLATILE so
    # that no plan ever evaluates it early or skips it.
    op.execute(
        """
        CREATE FUNCTION booklnk_enter(role text, user_id text, tenant_id text) RETURNS void
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            EXECUTE format('SET LOCAL ROLE %I', role);
            EXECUTE format('SET LOCAL app.user_id = %L', user_id);
            EXECUTE format('SET LOCAL app.tenant_id = %L', tenant_id);
        END $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION booklnk_enter_tenant(tenant_id text) RETURNS text
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            EXECUTE format('SET LOCAL app.tenant_id = %L', tenant_id);
            RETURN tenant_id;
        END $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION booklnk_enter_tenant(text)")
    op.execute("DROP FUNCTION booklnk_enter(text, text, text)")
