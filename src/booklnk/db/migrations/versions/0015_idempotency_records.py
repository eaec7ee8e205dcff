"""Idempotency records exist only with their response: a key in flight is held by its
transaction's advisory lock, so the lock column goes and the response is required.

Revision ID: 0015_idempotency_records
Revises: 0014_lookup_failed
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_idempotency_records"
down_revision: str | None = "0014_lookup_failed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Reservations of the old scheme that never got a response hold nothing any more.
    op.execute("DELETE FROM idempotency_record WHERE status_code IS NULL OR response_body IS NULL")
    op.drop_column("idempotency_record", "locked_until")
    op.alter_column("idempotency_record", "status_code", nullable=False)
    op.alter_column("idempotency_record", "response_body", nullable=False)


def downgrade() -> None:
    op.alter_column("idempotency_record", "response_body", nullable=True)
    op.alter_column("idempotency_record", "status_code", nullable=True)
    op.add_column(
        "idempotency_record",
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.alter_column("idempotency_record", "locked_until", server_default=None)
