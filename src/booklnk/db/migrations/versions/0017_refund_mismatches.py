"""Reconciliation flags refunds a person must look at: one Kashier refused (the customer
got nothing back), one accepted but not settled a day later.

Revision ID: 0017_refund_mismatches
Revises: 0016_booking_aggregate
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017_refund_mismatches"
down_revision: str | None = "0016_booking_aggregate"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BEFORE = (
    "'captured_not_recorded', 'paid_here_not_at_gateway', 'amount_differs', 'currency_differs',"
    " 'refunds_differ', 'status_differs', 'lookup_failed'"
)


def upgrade() -> None:
    op.execute("ALTER TYPE mismatch_kind ADD VALUE IF NOT EXISTS 'refund_refused'")
    op.execute("ALTER TYPE mismatch_kind ADD VALUE IF NOT EXISTS 'refund_pending_long'")


def downgrade() -> None:
    # PostgreSQL cannot drop an enum value: the rows go, the type is rebuilt without them.
    op.execute("DELETE FROM reconciliation_mismatch WHERE kind IN ('refund_refused', 'refund_pending_long')")
    op.execute("ALTER TYPE mismatch_kind RENAME TO mismatch_kind_old")
    op.execute(f"CREATE TYPE mismatch_kind AS ENUM ({_BEFORE})")
    op.execute(
        "ALTER TABLE reconciliation_mismatch ALTER COLUMN kind TYPE mismatch_kind"
        " USING kind::text::mismatch_kind"
    )
    op.execute("DROP TYPE mismatch_kind_old")
