"""A business's customer records; a booking may name the record staff booked it by.

Revision ID: 0023_customer_records
Revises: 0022_require_phone
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from booklnk.db.rls import tenant_isolation_sql

revision: str = "0023_customer_records"
down_revision: str | None = "0022_require_phone"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_record",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("phone", sa.String(16), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("tags", postgresql.ARRAY(sa.String(40)), server_default="{}", nullable=False),
        sa.Column("marketing_consent", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("search_key", sa.Text(), server_default="", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("user_id IS NOT NULL OR name IS NOT NULL", name=op.f("ck_customer_record_named")),
        sa.CheckConstraint("cardinality(tags) <= 20", name=op.f("ck_customer_record_tags_bounded")),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["business.id"],
            name=op.f("fk_customer_record_business_id_business"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_customer_record_user_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("business_id", "id", name=op.f("pk_customer_record")),
    )
    op.create_index(
        "uq_customer_record_business_user",
        "customer_record",
        ["business_id", "user_id"],
        unique=True,
        postgresql_where=sa.text("user_id IS NOT NULL"),
    )
    op.create_index(
        "uq_customer_record_business_phone",
        "customer_record",
        ["business_id", "phone"],
        unique=True,
        postgresql_where=sa.text("phone IS NOT NULL"),
    )
    # Every account that booked somewhere is that business's customer already.
    op.execute(
        """
        INSERT INTO customer_record (business_id, id, user_id, created_at, updated_at)
        SELECT business_id, gen_random_uuid(), customer_id, min(created_at), min(created_at)
        FROM booking WHERE customer_id IS NOT NULL GROUP BY business_id, customer_id
        """
    )
    for statement in tenant_isolation_sql("customer_record"):
        op.execute(statement)

    op.add_column("booking", sa.Column("customer_record_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_booking_business_id_customer_record"),
        "booking",
        "customer_record",
        ["business_id", "customer_record_id"],
        ["business_id", "id"],
    )
    op.create_index(
        "ix_booking_customer_record",
        "booking",
        ["business_id", "customer_record_id"],
        postgresql_where=sa.text("customer_record_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_booking_customer_record", "booking")
    op.drop_constraint(op.f("fk_booking_business_id_customer_record"), "booking", type_="foreignkey")
    op.drop_column("booking", "customer_record_id")
    op.drop_table("customer_record")
