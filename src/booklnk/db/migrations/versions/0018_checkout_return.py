"""Checkout sends the customer back to the business's own pages: each business lists the
origins it allows, each payment attempt keeps the return and cancel URLs it was given.

Revision ID: 0018_checkout_return
Revises: 0017_refund_mismatches
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018_checkout_return"
down_revision: str | None = "0017_refund_mismatches"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "business",
        sa.Column(
            "return_origins", postgresql.JSONB(), nullable=False, server_default=sa.text("'[]'::jsonb")
        ),
    )
    op.add_column("payment_attempt", sa.Column("return_url", sa.Text(), nullable=True))
    op.add_column("payment_attempt", sa.Column("cancel_url", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("payment_attempt", "cancel_url")
    op.drop_column("payment_attempt", "return_url")
    op.drop_column("business", "return_origins")
