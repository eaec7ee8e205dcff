"""Allocations found by lane and start, so that a search or a booking reads the busy time
near its window and not the lane's whole history.

Row-level security lets only leakproof operators into an index scan's conditions, and no
range operator (`&&`, `lower()`) is leakproof: reading a lane's busy time for a window
could only use the lane, and visited every allocation the lane ever had. A stored copy of
the period's start, compared with `<` and `>=` (leakproof), is searchable by the index; the
CHECK bounds how long an allocation can be (the API's longest is a day's service with four
hours of buffers on each side), so "starts before the window's end and at most that long
before its start" finds every allocation that overlaps the window.

Revision ID: 0030_allocation_start
Revises: 0029_customer_load
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030_allocation_start"
down_revision: str | None = "0029_customer_load"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "allocation",
        sa.Column(
            "starts_at",
            sa.DateTime(timezone=True),
            sa.Computed("lower(period)", persisted=True),
            nullable=False,
        ),
    )
    op.create_check_constraint(
        op.f("ck_allocation_at_most_two_days"),
        "allocation",
        "upper(period) - lower(period) <= interval '2 days'",
    )
    op.create_index("ix_allocation_lane_start", "allocation", ["lane", "starts_at"])
    op.drop_index("ix_allocation_lane_period", table_name="allocation")


def downgrade() -> None:
    op.create_index("ix_allocation_lane_period", "allocation", ["lane", "period"])
    op.drop_index("ix_allocation_lane_start", table_name="allocation")
    op.drop_constraint("ck_allocation_at_most_two_days", "allocation")
    op.drop_column("allocation", "starts_at")
