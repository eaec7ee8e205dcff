"""Per-staff private calendar feed tokens (hashed), behind tenant row-level security.

Revision ID: 0005_calendar_feed
Revises: 0004_idempotency
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from booklnk.db.rls import tenant_isolation_sql

revision: str = "0005_calendar_feed"
down_revision: str | None = "0004_idempotency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_feed",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("issued_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("business_id", "staff_id", name="pk_calendar_feed"),
        sa.UniqueConstraint("token_hash", name="uq_calendar_feed_token_hash"),
        sa.ForeignKeyConstraint(
            ["business_id"], ["business.id"], name="fk_calendar_feed_business_id_business", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["business_id", "staff_id"],
            ["staff_member.business_id", "staff_member.id"],
            name="fk_calendar_feed_business_id_staff_id_staff_member",
            ondelete="CASCADE",
        ),
        # Removing the member who issued a feed deletes it.
        sa.ForeignKeyConstraint(
            ["business_id", "issued_by"],
            ["membership.business_id", "membership.user_id"],
            name="fk_calendar_feed_business_id_issued_by_membership",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_calendar_feed_issuer", "calendar_feed", ["business_id", "issued_by"])
    # No exception to tenant isolation is needed: the token carries its business id, and
    # the feed route sets that tenant before looking the hash up.
    for statement in tenant_isolation_sql("calendar_feed"):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("calendar_feed")
