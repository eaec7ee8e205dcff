"""A customer reads their own places in waitlists across businesses, as they read their
own bookings (`booking_own_read`): "my bookings" finds a place in a class's line at a
business they have never booked with.

Revision ID: 0028_waitlist_own_read
Revises: 0027_phone_only_accounts
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028_waitlist_own_read"
down_revision: str | None = "0027_phone_only_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE POLICY waitlist_entry_own_read ON waitlist_entry FOR SELECT"
        " USING (customer_id = booklnk_current_user())"
    )


def downgrade() -> None:
    op.execute("DROP POLICY waitlist_entry_own_read ON waitlist_entry")
