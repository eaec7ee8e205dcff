"""Bookings and allocations; lanes for staff and resources; the no-overlap constraint.

Revision ID: 0003_booking
Revises: 0002_catalog
Create Date: 2026-11-24
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from booklnk.db.rls import tenant_isolation_sql

revision: str = "0003_booking"
down_revision: str | None = "0002_catalog"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUS = pg.ENUM(
    "held",
    "confirmed",
    "checked_in",
    "completed",
    "cancelled",
    "expired",
    "no_show",
    name="booking_status",
    create_type=False,
)
LANE_DEFAULT = "nextval('booklnk_lane_seq')"
LANE_BITS = 34  # seconds since 1970 stay below 2**34 until the year 2514


def _lanes() -> None:
    # Every staff member and resource gets a number unique across tenants, so one int8
    # range can say "this lane, this time" and core GiST can exclude overlaps.
    op.execute("CREATE SEQUENCE booklnk_lane_seq AS bigint MAXVALUE 536870911")
    op.execute("GRANT USAGE ON SEQUENCE booklnk_lane_seq TO booklnk_app")
    for table in ("staff_member", "resource"):
        op.add_column(
            table,
            sa.Column(
                "lane", sa.BigInteger(), server_default=sa.text("nextval('booklnk_lane_seq')"), nullable=False
            ),
        )
        op.create_unique_constraint(f"uq_{table}_lane", table, ["lane"])
    # The epoch of an instant does not depend on the session's time zone, so this is
    # honestly IMMUTABLE (PostgreSQL marks extract() on timestamptz only STABLE).
    op.execute(
        f"""
        CREATE FUNCTION booklnk_span(lane bigint, period tstzrange) RETURNS int8range
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
        $$ SELECT int8range((lane << {LANE_BITS}) + extract(epoch FROM lower(period))::bigint,
                            (lane << {LANE_BITS}) + extract(epoch FROM upper(period))::bigint) $$
        """
    )


def _timestamps() -> list[sa.Column[Any]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    ]


def _booking() -> None:
    STATUS.create(op.get_bind())
    op.create_table(
        "booking",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hold_expires_at", sa.DateTime(timezone=True)),
        sa.Column("payment_method", sa.String(20)),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("extra_fields", pg.JSONB(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("business_id", "id", name="pk_booking"),
        sa.ForeignKeyConstraint(
            ["business_id"], ["business.id"], name="fk_booking_business_id_business", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["business_id", "service_id"],
            ["service.business_id", "service.id"],
            name="fk_booking_business_id_service_id_service",
        ),
        sa.ForeignKeyConstraint(
            ["business_id", "staff_id"],
            ["staff_member.business_id", "staff_member.id"],
            name="fk_booking_business_id_staff_id_staff_member",
        ),
        sa.ForeignKeyConstraint(["customer_id"], ["app_user.id"], name="fk_booking_customer_id_app_user"),
        sa.CheckConstraint("ends_at > starts_at", name="ck_booking_ends_after_start"),
        sa.CheckConstraint(
            "status <> 'held' OR hold_expires_at IS NOT NULL", name="ck_booking_held_has_expiry"
        ),
        sa.CheckConstraint("price_minor >= 0", name="ck_booking_price_not_negative"),
    )
    op.create_index("ix_booking_business_starts", "booking", ["business_id", "starts_at"])
    op.create_index("ix_booking_business_staff_starts", "booking", ["business_id", "staff_id", "starts_at"])
    op.create_index("ix_booking_customer", "booking", ["customer_id", "starts_at"])


def _allocation() -> None:
    op.create_table(
        "allocation",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("lane", sa.BigInteger(), nullable=False),
        sa.Column("staff_id", sa.Uuid()),
        sa.Column("resource_id", sa.Uuid()),
        sa.Column("period", pg.TSTZRANGE(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("span", pg.INT8RANGE(), sa.Computed("booklnk_span(lane, period)", persisted=True)),
        sa.PrimaryKeyConstraint("business_id", "booking_id", "lane", name="pk_allocation"),
        sa.ForeignKeyConstraint(
            ["business_id", "booking_id"],
            ["booking.business_id", "booking.id"],
            name="fk_allocation_business_id_booking_id_booking",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["business_id", "staff_id"],
            ["staff_member.business_id", "staff_member.id"],
            name="fk_allocation_business_id_staff_id_staff_member",
        ),
        sa.ForeignKeyConstraint(
            ["business_id", "resource_id"],
            ["resource.business_id", "resource.id"],
            name="fk_allocation_business_id_resource_id_resource",
        ),
        sa.CheckConstraint("(staff_id IS NULL) <> (resource_id IS NULL)", name="ck_allocation_one_owner"),
    )
    op.execute(
        "ALTER TABLE allocation ADD CONSTRAINT ex_allocation_overlap "
        "EXCLUDE USING gist (span WITH &&) WHERE (active)"
    )
    op.create_index("ix_allocation_lane_period", "allocation", ["lane", "period"])


def upgrade() -> None:
    _lanes()
    _booking()
    _allocation()
    for table in ("booking", "allocation"):
        for statement in tenant_isolation_sql(table):
            op.execute(statement)
    # A customer sees their own bookings across businesses (`/v1/me/bookings`).
    op.execute(
        "CREATE POLICY booking_own_read ON booking FOR SELECT USING (customer_id = booklnk_current_user())"
    )


def downgrade() -> None:
    op.drop_table("allocation")
    op.drop_table("booking")
    STATUS.drop(op.get_bind())
    op.execute("DROP FUNCTION booklnk_span(bigint, tstzrange)")
    for table in ("staff_member", "resource"):
        op.drop_constraint(f"uq_{table}_lane", table)
        op.drop_column(table, "lane")
    op.execute("DROP SEQUENCE booklnk_lane_seq")
