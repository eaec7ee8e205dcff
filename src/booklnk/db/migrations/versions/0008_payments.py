"""Payment attempts (per trip to the hosted page), the global order-id index webhooks are
routed by, every verified webhook delivery (deduplicated), and the append-only ledger.

Revision ID: 0008_payments
Revises: 0007_classes
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from booklnk.db.rls import APP_ROLE, tenant_isolation_sql

revision: str = "0008_payments"
down_revision: str | None = "0007_classes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_order",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_payment_order")),
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("transaction_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("merchant_order_id", sa.String(length=100), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
        sa.UniqueConstraint(
            "event", "transaction_id", "status", "amount_minor", name="uq_webhook_delivery_event"
        ),
    )
    op.create_index("ix_webhook_delivery_order", "webhook_delivery", ["merchant_order_id"], unique=False)
    op.create_table(
        "payment_attempt",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "status",
            sa.Enum("started", "pending", "paid", "failed", "flagged", name="payment_attempt_status"),
            nullable=False,
        ),
        sa.Column("gateway_order_id", sa.String(length=100), nullable=True),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payment_attempt_amount_positive")),
        sa.ForeignKeyConstraint(
            ["business_id", "booking_id"],
            ["booking.business_id", "booking.id"],
            name=op.f("fk_payment_attempt_business_id_booking_id_booking"),
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["business.id"],
            name=op.f("fk_payment_attempt_business_id_business"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("business_id", "id", name=op.f("pk_payment_attempt")),
        sa.UniqueConstraint("order_id", name=op.f("uq_payment_attempt_order_id")),
    )
    op.create_index(
        "ix_payment_attempt_booking", "payment_attempt", ["business_id", "booking_id"], unique=False
    )
    op.create_index(
        "ix_payment_attempt_created", "payment_attempt", ["business_id", "created_at"], unique=False
    )
    op.create_table(
        "ledger_entry",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("attempt_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Enum("capture", "refund", "fee", name="ledger_kind"), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_ledger_entry_amount_positive")),
        sa.ForeignKeyConstraint(
            ["business_id", "attempt_id"],
            ["payment_attempt.business_id", "payment_attempt.id"],
            name=op.f("fk_ledger_entry_business_id_attempt_id_payment_attempt"),
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["business.id"],
            name=op.f("fk_ledger_entry_business_id_business"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("business_id", "id", name=op.f("pk_ledger_entry")),
        sa.UniqueConstraint("business_id", "source", name=op.f("uq_ledger_entry_business_id_source")),
    )
    op.create_index("ix_ledger_entry_booking", "ledger_entry", ["business_id", "booking_id"], unique=False)
    for table in ("payment_attempt", "ledger_entry"):
        for statement in tenant_isolation_sql(table):
            op.execute(statement)
    # The ledger is append-only for the application: money is corrected by new rows.
    op.execute(f"REVOKE UPDATE, DELETE ON ledger_entry FROM {APP_ROLE}")


def downgrade() -> None:
    op.drop_table("ledger_entry")
    op.drop_table("webhook_delivery")
    op.drop_table("payment_order")
    op.drop_table("payment_attempt")
    op.execute("DROP TYPE ledger_kind")
    op.execute("DROP TYPE payment_attempt_status")
