"""Reconciliation records a lookup that failed (and goes on), and a later run of the same
day resolves what it no longer finds.

Revision ID: 0014_lookup_failed
Revises: 0013_refund_settled
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_lookup_failed"
down_revision: str | None = "0013_refund_settled"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TYPE mismatch_kind ADD VALUE IF NOT EXISTS 'lookup_failed'")
    op.add_column(
        "reconciliation_mismatch", sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("reconciliation_mismatch", "resolved_at")
    # PostgreSQL cannot drop an enum value: the rows go, the type is rebuilt without it.
    op.execute("DELETE FROM reconciliation_mismatch WHERE kind = 'lookup_failed'")
    op.execute("ALTER TYPE mismatch_kind RENAME TO mismatch_kind_old")
    op.execute(
        "CREATE TYPE mismatch_kind AS ENUM ('captured_not_recorded', 'paid_here_not_at_gateway',"
        " 'amount_differs', 'currency_differs', 'refunds_differ', 'status_differs')"
    )
    op.execute(
        "ALTER TABLE reconciliation_mismatch ALTER COLUMN kind TYPE mismatch_kind"
        " USING kind::text::mismatch_kind"
    )
    op.execute("DROP TYPE mismatch_kind_old")
