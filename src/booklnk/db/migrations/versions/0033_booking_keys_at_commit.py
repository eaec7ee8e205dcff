"""The foreign keys from a booking's allocations and its first status change to the
booking, checked at commit rather than at the statement's end.

A booking, its allocations and its status change are written by one statement
(`booking.repository._PLACE`). PostgreSQL checks the keys at that statement's end. Citus
runs the statement's parts one after another, with the allocations before the booking,
and refused the allocation. Every part is still in the same transaction, and the
transaction commits only with the booking, so checking at commit refuses exactly what
checking at the statement's end refused.

Revision ID: 0033_booking_keys_at_commit
Revises: 0032_context_by_set_local
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0033_booking_keys_at_commit"
down_revision: str | None = "0032_context_by_set_local"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFERRING = ("allocation", "booking_status_change")


def _keys(deferred: bool) -> None:
    for table in REFERRING:
        name = f"fk_{table}_business_id_booking_id_booking"
        op.drop_constraint(name, table)
        op.create_foreign_key(
            name,
            table,
            "booking",
            ["business_id", "booking_id"],
            ["business_id", "id"],
            ondelete="CASCADE",
            deferrable=deferred or None,
            initially="DEFERRED" if deferred else None,
        )


def upgrade() -> None:
    _keys(deferred=True)


def downgrade() -> None:
    _keys(deferred=False)
