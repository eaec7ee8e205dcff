"""Accounts, businesses (tenants), memberships, invitations, business types, and RLS.

Revision ID: 0001_tenancy
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from booklnk.db.rls import APP_ROLE, tenant_isolation_sql

revision: str = "0001_tenancy"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE_ENUM = pg.ENUM("owner", "staff", name="membership_role", create_type=False)


def _timestamps() -> list[sa.Column[Any]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    ]


def _create_app_role() -> None:
    # Roles are cluster-wide: several databases (tests, CI) may race to create it.
    op.execute(
        f"""
        DO $$ BEGIN
            CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$;
        """
    )
    op.execute(f"GRANT {APP_ROLE} TO CURRENT_USER")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE}"
    )
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE}")


def _create_context_functions() -> None:
    for name, setting in (("tenant", "app.tenant_id"), ("user", "app.user_id")):
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION booklnk_current_{name}() RETURNS uuid
            LANGUAGE sql STABLE AS
            $$ SELECT nullif(current_setting('{setting}', true), '')::uuid $$
            """
        )


def upgrade() -> None:
    _create_app_role()
    _create_context_functions()
    ROLE_ENUM.create(op.get_bind())

    op.create_table(
        "app_user",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("is_platform_admin", sa.Boolean(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_app_user"),
    )
    op.create_index("uq_app_user_email", "app_user", [sa.text("lower(email)")], unique=True)

    op.create_table(
        "refresh_token",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_refresh_token"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name="fk_refresh_token_user_id_app_user", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("token_hash", name="uq_refresh_token_token_hash"),
    )
    op.create_index("ix_refresh_token_family", "refresh_token", ["family_id"])
    op.create_index("ix_refresh_token_user", "refresh_token", ["user_id"])

    op.create_table(
        "login_failure",
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name="pk_login_failure"),
    )

    op.create_table(
        "business_type",
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("definition", pg.JSONB(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("key", name="pk_business_type"),
    )

    op.create_table(
        "business",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("slug", sa.String(63), nullable=False),
        sa.Column("business_type_key", sa.String(40), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("rule_overrides", pg.JSONB(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_business"),
        sa.UniqueConstraint("slug", name="uq_business_slug"),
        sa.ForeignKeyConstraint(
            ["business_type_key"], ["business_type.key"], name="fk_business_business_type_key_business_type"
        ),
        sa.CheckConstraint("slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'", name="ck_business_slug_format"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_business_currency_format"),
    )

    op.create_table(
        "membership",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role", ROLE_ENUM, nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("business_id", "user_id", name="pk_membership"),
        sa.ForeignKeyConstraint(
            ["business_id"], ["business.id"], name="fk_membership_business_id_business", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name="fk_membership_user_id_app_user", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_membership_user", "membership", ["user_id"])
    op.create_index("ix_business_business_type_key", "business", ["business_type_key"])

    op.create_table(
        "invitation",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("role", ROLE_ENUM, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("invited_by", sa.Uuid(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True)),
        sa.Column("accepted_by", sa.Uuid()),
        *_timestamps(),
        sa.PrimaryKeyConstraint("business_id", "id", name="pk_invitation"),
        sa.UniqueConstraint("token_hash", name="uq_invitation_token_hash"),
        sa.ForeignKeyConstraint(
            ["business_id"], ["business.id"], name="fk_invitation_business_id_business", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["invited_by"], ["app_user.id"], name="fk_invitation_invited_by_app_user"),
        sa.ForeignKeyConstraint(["accepted_by"], ["app_user.id"], name="fk_invitation_accepted_by_app_user"),
    )
    op.create_index("ix_invitation_invited_by", "invitation", ["invited_by"])
    op.create_index("ix_invitation_accepted_by", "invitation", ["accepted_by"])

    _enable_rls()


def _enable_rls() -> None:
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}")
    op.execute(f"REVOKE ALL ON alembic_version FROM {APP_ROLE}")
    # A business row is the tenant itself: its public profile is readable by anyone
    # (customers browse businesses), but only its own context may change it.
    op.execute("ALTER TABLE business ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE business FORCE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY business_read ON business FOR SELECT USING (true)")
    op.execute(
        "CREATE POLICY business_write ON business FOR INSERT WITH CHECK (id = booklnk_current_tenant())"
    )
    op.execute(
        "CREATE POLICY business_update ON business FOR UPDATE "
        "USING (id = booklnk_current_tenant()) WITH CHECK (id = booklnk_current_tenant())"
    )
    op.execute("CREATE POLICY business_delete ON business FOR DELETE USING (id = booklnk_current_tenant())")
    for statement in tenant_isolation_sql("invitation"):
        op.execute(statement)
    for statement in tenant_isolation_sql("membership"):
        op.execute(statement)
    # A user may list their own memberships across businesses ("where am I staff?").
    op.execute(
        "CREATE POLICY membership_own_read ON membership FOR SELECT USING (user_id = booklnk_current_user())"
    )


def downgrade() -> None:
    for table in (
        "invitation",
        "membership",
        "business",
        "business_type",
        "login_failure",
        "refresh_token",
        "app_user",
    ):
        op.drop_table(table)
    ROLE_ENUM.drop(op.get_bind())
    op.execute("DROP FUNCTION IF EXISTS booklnk_current_tenant()")
    op.execute("DROP FUNCTION IF EXISTS booklnk_current_user()")
