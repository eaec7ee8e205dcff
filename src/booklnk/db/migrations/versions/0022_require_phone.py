"""A business may require a proven mobile number of customers who book themselves.

Revision ID: 0022_require_phone
Revises: 0021_phones_and_channels
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_require_phone"
down_revision: str | None = "0021_phones_and_channels"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "business", sa.Column("require_phone", sa.Boolean(), server_default="false", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("business", "require_phone")
