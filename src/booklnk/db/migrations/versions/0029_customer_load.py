"""A customer's load at a business (unpaid holds, bookings on one local day), counted
after their advisory lock is granted, in one round trip: a PL/pgSQL function runs each of
its statements with a snapshot of its own, so the count sees the booking the lock waited
for (a count in the locking statement itself would not).

Revision ID: 0029_customer_load
Revises: 0028_waitlist_own_read
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0029_customer_load"
down_revision: str | None = "0028_waitlist_own_read"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # VOLATILE (the default) is what gives each statement its own snapshot; SECURITY
    # INVOKER (the default) keeps row-level security on the caller's role.
    op.execute(
        """
        CREATE FUNCTION booklnk_customer_load(
            lock_key text, business uuid, customer uuid, blocking booking_status[],
            now timestamptz, day_start timestamptz, day_end timestamptz,
            OUT holds bigint, OUT that_day bigint
        ) LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtextextended(lock_key, 0));
            SELECT count(*) FILTER (WHERE b.status = 'held'),
                   count(*) FILTER (WHERE b.starts_at >= day_start AND b.starts_at < day_end)
              INTO holds, that_day
              FROM booking b
             WHERE b.business_id = business AND b.customer_id = customer
               AND b.status = ANY (blocking)
               AND NOT (b.status = 'held' AND b.hold_expires_at <= now);
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION booklnk_customer_load(text, uuid, uuid, booking_status[], timestamptz,"
        " timestamptz, timestamptz)"
    )
