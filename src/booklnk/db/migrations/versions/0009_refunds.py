"""Refund intents: recorded before Kashier's refund API is called, at most one call each.

Revision ID: 0009_refunds
Revises: 0008_payments
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from booklnk.db.rls import tenant_isolation_sql

revision: str = "0009_refunds"
down_revision: str | None = "0008_payments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "refund_intent",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("attempt_id", sa.Uuid(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum("requested", "sending", "accepted", "refused", name="refund_status"),
            nullable=False,
        ),
        sa.Column("gateway_transaction_id", sa.String(length=100), nullable=True),
        sa.Column("gateway_message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_refund_intent_amount_positive")),
        sa.ForeignKeyConstraint(
            ["business_id", "attempt_id"],
            ["payment_attempt.business_id", "payment_attempt.id"],
            name=op.f("fk_refund_intent_business_id_attempt_id_payment_attempt"),
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["business.id"],
            name=op.f("fk_refund_intent_business_id_business"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("business_id", "id", name=op.f("pk_refund_intent")),
    )
    op.create_index("ix_refund_intent_attempt", "refund_intent", ["business_id", "attempt_id"], unique=False)
    for statement in tenant_isolation_sql("refund_intent"):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("refund_intent")
    op.execute("DROP TYPE refund_status")
