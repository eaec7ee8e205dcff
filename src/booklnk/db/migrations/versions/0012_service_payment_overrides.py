"""Services may change the business's payment rules for themselves (within the type's bounds).

Revision ID: 0012_service_payment_overrides
Revises: 0011_booking_status_reason
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012_service_payment_overrides"
down_revision: str | None = "0011_booking_status_reason"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing services get no overrides; new ones are written by the application.
    op.add_column(
        "service",
        sa.Column(
            "payment_overrides", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")
        ),
    )
    op.alter_column("service", "payment_overrides", server_default=None)


def downgrade() -> None:
    op.drop_column("service", "payment_overrides")
