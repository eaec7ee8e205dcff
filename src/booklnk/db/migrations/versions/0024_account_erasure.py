"""An account may be deleted: its row stays (bookings and the ledger point at it), its
personal data is erased and `deleted_at` says when.

Revision ID: 0024_account_erasure
Revises: 0023_customer_records
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_account_erasure"
down_revision: str | None = "0023_customer_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("app_user", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("app_user", "deleted_at")
