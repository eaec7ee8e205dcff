"""Idempotency records for POSTs that create.

Revision ID: 0004_idempotency
Revises: 0003_booking
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from booklnk.db.rls import tenant_isolation_sql

revision: str = "0004_idempotency"
down_revision: str | None = "0003_booking"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_record",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer()),
        sa.Column("response_body", pg.JSONB()),
        sa.PrimaryKeyConstraint("business_id", "user_id", "key", name="pk_idempotency_record"),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["business.id"],
            name="fk_idempotency_record_business_id_business",
            ondelete="CASCADE",
        ),
    )
    for statement in tenant_isolation_sql("idempotency_record"):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("idempotency_record")
