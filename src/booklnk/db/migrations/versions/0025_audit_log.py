"""An append-only audit log per business; booking status changes read by time too.

Revision ID: 0025_audit_log
Revises: 0024_account_erasure
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from booklnk.db.rls import APP_ROLE, tenant_isolation_sql

revision: str = "0025_audit_log"
down_revision: str | None = "0024_account_erasure"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("subject_type", sa.String(20), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=True),
        sa.Column("booking_id", sa.Uuid(), nullable=True),
        sa.Column("details", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["business.id"],
            name=op.f("fk_audit_event_business_id_business"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("business_id", "id", name=op.f("pk_audit_event")),
    )
    op.create_index("ix_audit_event_business_at", "audit_event", ["business_id", "at", "id"])
    op.create_index(
        "ix_audit_event_booking",
        "audit_event",
        ["business_id", "booking_id"],
        postgresql_where=sa.text("booking_id IS NOT NULL"),
    )
    for statement in tenant_isolation_sql("audit_event"):
        op.execute(statement)
    op.execute(f"REVOKE UPDATE, DELETE ON audit_event FROM {APP_ROLE}")
    # The log reads status changes newest first across a business.
    op.create_index(
        "ix_booking_status_change_business_at", "booking_status_change", ["business_id", "changed_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_booking_status_change_business_at", "booking_status_change")
    op.drop_table("audit_event")
