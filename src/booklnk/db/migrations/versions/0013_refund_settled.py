"""A refund intent is settled once Kashier's refund webhook has put its money in the ledger.

Revision ID: 0013_refund_settled
Revises: 0012_service_payment_overrides
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_refund_settled"
down_revision: str | None = "0012_service_payment_overrides"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Allowed inside the migration's transaction (PostgreSQL 12+); nothing here uses it yet.
    op.execute("ALTER TYPE refund_status ADD VALUE IF NOT EXISTS 'settled'")


def downgrade() -> None:
    # PostgreSQL cannot drop an enum value: settled intents go back to accepted and the
    # type is rebuilt without it.
    op.execute("UPDATE refund_intent SET status = 'accepted' WHERE status = 'settled'")
    op.execute("ALTER TYPE refund_status RENAME TO refund_status_old")
    op.execute("CREATE TYPE refund_status AS ENUM ('requested', 'sending', 'accepted', 'refused')")
    op.execute(
        "ALTER TABLE refund_intent ALTER COLUMN status TYPE refund_status USING status::text::refund_status"
    )
    op.execute("DROP TYPE refund_status_old")
