"""Bookings say why their status is what it is, when that is not obvious (late money).

Revision ID: 0011_booking_status_reason
Revises: 0010_reconciliation
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_booking_status_reason"
down_revision: str | None = "0010_reconciliation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("booking", sa.Column("status_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("booking", "status_reason")
