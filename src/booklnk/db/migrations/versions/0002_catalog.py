"""Catalog: staff members, resources, services, weekly hours, time off and date overrides.

Every table is keyed (business_id, id) and references other catalog rows by composite
foreign keys carrying business_id, so no row can point at another tenant's row; all of
them sit behind row-level security. Privileges come from 0001's default privileges.

Revision ID: 0002_catalog
Revises: 0001_tenancy
Create Date: 2026-11-24
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from booklnk.db.rls import tenant_isolation_sql

revision: str = "0002_catalog"
down_revision: str | None = "0001_tenancy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "staff_member",
    "resource",
    "service",
    "service_staff",
    "weekly_interval",
    "time_off",
    "date_override",
    "date_override_interval",
)
OWNER_SQL = {
    "business": "(owner_kind = 'business' AND staff_id IS NULL AND resource_id IS NULL)",
    "staff": "(owner_kind = 'staff' AND staff_id IS NOT NULL AND resource_id IS NULL)",
    "resource": "(owner_kind = 'resource' AND resource_id IS NOT NULL AND staff_id IS NULL)",
}
END_AFTER_START_SQL = "end_time > start_time OR end_time = '00:00'"


def _timestamps() -> list[sa.Column[Any]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    ]


def _keyed(table: str) -> list[sa.schema.SchemaItem]:
    """(business_id, id) primary key and the tenant's cascading foreign key."""
    return [
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("business_id", "id", name=f"pk_{table}"),
        _tenant_fk(table),
    ]


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["business_id"], ["business.id"], name=f"fk_{table}_business_id_business", ondelete="CASCADE"
    )


def _catalog_fk(table: str, column: str, parent: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["business_id", column],
        [f"{parent}.business_id", f"{parent}.id"],
        name=f"fk_{table}_business_id_{column}_{parent}",
        ondelete="CASCADE",
    )


def _owned(table: str, owners: Sequence[str]) -> list[sa.schema.SchemaItem]:
    """Owner columns: exactly one owner kind per row, each id a same-tenant reference."""
    return [
        sa.Column("owner_kind", sa.String(10), nullable=False),
        sa.Column("staff_id", sa.Uuid()),
        sa.Column("resource_id", sa.Uuid()),
        _catalog_fk(table, "staff_id", "staff_member"),
        _catalog_fk(table, "resource_id", "resource"),
        sa.CheckConstraint(" OR ".join(OWNER_SQL[o] for o in owners), name=f"ck_{table}_one_owner"),
    ]


def _create_people_and_things() -> None:
    op.create_table(
        "staff_member",
        *_keyed("staff_member"),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("user_id", sa.Uuid()),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["business_id", "user_id"],
            ["membership.business_id", "membership.user_id"],
            name="fk_staff_member_business_id_user_id_membership",
            ondelete="SET NULL (user_id)",
        ),
        sa.UniqueConstraint("business_id", "user_id", name="uq_staff_member_business_id_user_id"),
    )
    op.create_table(
        "resource",
        *_keyed("resource"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("kind ~ '^[a-z][a-z0-9_-]{0,39}$'", name="ck_resource_kind_format"),
    )
    op.create_index("ix_resource_kind", "resource", ["business_id", "kind"])


def _create_services() -> None:
    op.create_table(
        "service",
        *_keyed("service"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("duration_options_minutes", pg.ARRAY(sa.Integer()), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("buffer_before_minutes", sa.Integer()),
        sa.Column("buffer_after_minutes", sa.Integer()),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("required_resource_kinds", pg.ARRAY(sa.String(40)), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("price_minor >= 0", name="ck_service_price_not_negative"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_service_currency_format"),
        sa.CheckConstraint(
            "cardinality(duration_options_minutes) >= 1 AND 0 < ALL (duration_options_minutes)",
            name="ck_service_durations_positive",
        ),
        sa.CheckConstraint(
            "coalesce(buffer_before_minutes, 0) >= 0 AND coalesce(buffer_after_minutes, 0) >= 0",
            name="ck_service_buffers_not_negative",
        ),
        sa.CheckConstraint("capacity >= 1", name="ck_service_capacity_positive"),
    )
    op.create_table(
        "service_staff",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("business_id", "service_id", "staff_id", name="pk_service_staff"),
        _tenant_fk("service_staff"),
        _catalog_fk("service_staff", "service_id", "service"),
        _catalog_fk("service_staff", "staff_id", "staff_member"),
    )
    op.create_index("ix_service_staff_staff", "service_staff", ["business_id", "staff_id"])


def _create_weekly_intervals() -> None:
    op.create_table(
        "weekly_interval",
        *_keyed("weekly_interval"),
        *_owned("weekly_interval", ("business", "staff", "resource")),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.CheckConstraint("kind IN ('hours', 'break')", name="ck_weekly_interval_kind_valid"),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="ck_weekly_interval_weekday_range"),
        sa.CheckConstraint(END_AFTER_START_SQL, name="ck_weekly_interval_end_after_start"),
    )
    op.create_index("ix_weekly_interval_staff", "weekly_interval", ["business_id", "staff_id"])
    op.create_index("ix_weekly_interval_resource", "weekly_interval", ["business_id", "resource_id"])


def _create_time_off() -> None:
    op.create_table(
        "time_off",
        *_keyed("time_off"),
        *_owned("time_off", ("staff", "resource")),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("ends_at > starts_at", name="ck_time_off_ends_after_start"),
    )
    op.create_index("ix_time_off_staff", "time_off", ["business_id", "staff_id", "starts_at"])
    op.create_index("ix_time_off_resource", "time_off", ["business_id", "resource_id", "starts_at"])


def _create_date_overrides() -> None:
    op.create_table(
        "date_override",
        *_keyed("date_override"),
        *_owned("date_override", ("business", "staff", "resource")),
        sa.Column("override_date", sa.Date(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        *_timestamps(),
        # NULLS NOT DISTINCT (PostgreSQL 15+): the business's own rows have both ids null.
        sa.UniqueConstraint(
            "business_id",
            "owner_kind",
            "staff_id",
            "resource_id",
            "override_date",
            name="uq_date_override_owner_date",
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_index("ix_date_override_staff", "date_override", ["business_id", "staff_id"])
    op.create_index("ix_date_override_resource", "date_override", ["business_id", "resource_id"])
    op.create_table(
        "date_override_interval",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("override_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.PrimaryKeyConstraint("business_id", "override_id", "position", name="pk_date_override_interval"),
        _tenant_fk("date_override_interval"),
        _catalog_fk("date_override_interval", "override_id", "date_override"),
        sa.CheckConstraint(END_AFTER_START_SQL, name="ck_date_override_interval_end_after_start"),
    )


def upgrade() -> None:
    _create_people_and_things()
    _create_services()
    _create_weekly_intervals()
    _create_time_off()
    _create_date_overrides()
    for table in TABLES:
        for statement in tenant_isolation_sql(table):
            op.execute(statement)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
