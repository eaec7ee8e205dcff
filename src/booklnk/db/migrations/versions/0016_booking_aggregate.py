"""The booking aggregate made whole: every status change audited; class sessions take
their instructor and rooms as allocations (the exclusion constraint appointments use);
walk-ins without an account; deposits fixed per booking; payments of what is still due
and money taken at the desk.

Revision ID: 0016_booking_aggregate
Revises: 0015_idempotency_records
Create Date: 2026-12-04
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from booklnk.db.rls import APP_ROLE, tenant_isolation_sql

revision: str = "0016_booking_aggregate"
down_revision: str | None = "0015_idempotency_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUS = postgresql.ENUM(name="booking_status", create_type=False)
PURPOSE = sa.Enum("hold", "balance", name="payment_attempt_purpose")
CHANNEL = sa.Enum("kashier", "desk", name="ledger_channel")
DESK_METHOD = sa.Enum("cash", "card_terminal", name="desk_method")


@contextmanager
def _owner_sees_all(*tables: str) -> Iterator[None]:
    """Backfills run as the tables' owner, which FORCEd row-level security would limit to
    no tenant at all (a migrating role need not be a superuser): lift FORCE meanwhile."""
    for table in tables:
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    yield
    for table in tables:
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def _bookings() -> None:
    op.alter_column("booking", "customer_id", nullable=True)
    op.add_column("booking", sa.Column("guest_name", sa.String(200), nullable=True))
    op.add_column("booking", sa.Column("deposit_minor", sa.BigInteger(), nullable=False, server_default="0"))
    op.alter_column("booking", "deposit_minor", server_default=None)
    op.create_table(
        "booking_status_change",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("from_status", STATUS, nullable=True),
        sa.Column("to_status", STATUS, nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("business_id", "id", name=op.f("pk_booking_status_change")),
        sa.ForeignKeyConstraint(
            ["business_id", "booking_id"],
            ["booking.business_id", "booking.id"],
            name=op.f("fk_booking_status_change_business_id_booking_id_booking"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_booking_status_change_booking", "booking_status_change", ["business_id", "booking_id", "id"]
    )
    for statement in tenant_isolation_sql("booking_status_change"):
        op.execute(statement)
    # The audit is added to, never rewritten.
    op.execute(f"REVOKE UPDATE, DELETE ON booking_status_change FROM {APP_ROLE}")
    with _owner_sees_all("booking", "payment_attempt", "booking_status_change"):
        # What a held booking was asked to pay is what its first attempt asked for.
        op.execute(
            """
            UPDATE booking b SET deposit_minor = least(b.price_minor, a.amount_minor)
            FROM (SELECT DISTINCT ON (business_id, booking_id) business_id, booking_id, amount_minor
                  FROM payment_attempt ORDER BY business_id, booking_id, created_at) a
            WHERE a.business_id = b.business_id AND a.booking_id = b.id
            """
        )
        # Bookings made before the audit: their status as it stands, as one entry.
        op.execute(
            """
            INSERT INTO booking_status_change (business_id, booking_id, from_status, to_status, action,
                                               actor_id, changed_at)
            SELECT business_id, id, NULL, status, 'backfill', NULL, updated_at FROM booking
            """
        )
    op.create_check_constraint(
        op.f("ck_booking_deposit_within_price"), "booking", "deposit_minor BETWEEN 0 AND price_minor"
    )
    op.create_check_constraint(
        op.f("ck_booking_has_customer"), "booking", "customer_id IS NOT NULL OR guest_name IS NOT NULL"
    )


def _allocations() -> None:
    op.add_column(
        "allocation",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
    )
    op.add_column("allocation", sa.Column("session_id", sa.Uuid(), nullable=True))
    op.drop_constraint("pk_allocation", "allocation", type_="primary")
    op.alter_column("allocation", "booking_id", nullable=True)
    op.create_primary_key("pk_allocation", "allocation", ["business_id", "id"])
    op.create_foreign_key(
        op.f("fk_allocation_business_id_session_id_class_session"),
        "allocation",
        "class_session",
        ["business_id", "session_id"],
        ["business_id", "id"],
        ondelete="CASCADE",
    )
    op.create_check_constraint(
        op.f("ck_allocation_one_holder"), "allocation", "(booking_id IS NULL) <> (session_id IS NULL)"
    )
    op.create_index("ix_allocation_booking", "allocation", ["business_id", "booking_id"])
    op.create_index("ix_allocation_session", "allocation", ["business_id", "session_id"])
    with _owner_sees_all("allocation", "class_session"):
        # A session's instructor, held by its own exclusion constraint until now.
        op.execute(
            """
            INSERT INTO allocation (business_id, session_id, lane, staff_id, period, active)
            SELECT business_id, id, lane, staff_id, tstzrange(starts_at, ends_at), status = 'scheduled'
            FROM class_session
            """
        )
    op.drop_constraint("ex_class_session_instructor", "class_session")
    op.drop_column("class_session", "span")
    op.drop_column("class_session", "lane")
    op.add_column(
        "class_series",
        sa.Column(
            "resource_ids",
            postgresql.ARRAY(sa.Uuid()),
            nullable=False,
            server_default=sa.text("'{}'::uuid[]"),
        ),
    )
    op.alter_column("class_series", "resource_ids", server_default=None)


def _payments() -> None:
    PURPOSE.create(op.get_bind())
    op.add_column("payment_attempt", sa.Column("purpose", PURPOSE, nullable=False, server_default="hold"))
    op.alter_column("payment_attempt", "purpose", server_default=None)
    CHANNEL.create(op.get_bind())
    DESK_METHOD.create(op.get_bind())
    op.alter_column("ledger_entry", "attempt_id", nullable=True)
    op.add_column("ledger_entry", sa.Column("channel", CHANNEL, nullable=False, server_default="kashier"))
    op.alter_column("ledger_entry", "channel", server_default=None)
    op.add_column("ledger_entry", sa.Column("desk_method", DESK_METHOD, nullable=True))
    op.add_column("ledger_entry", sa.Column("recorded_by", sa.Uuid(), nullable=True))
    op.create_check_constraint(
        op.f("ck_ledger_entry_channel_fields"),
        "ledger_entry",
        "(channel = 'kashier' AND attempt_id IS NOT NULL AND desk_method IS NULL)"
        " OR (channel = 'desk' AND attempt_id IS NULL AND desk_method IS NOT NULL"
        " AND recorded_by IS NOT NULL)",
    )


def upgrade() -> None:
    _bookings()
    _allocations()
    _payments()


def downgrade() -> None:
    op.drop_constraint(op.f("ck_ledger_entry_channel_fields"), "ledger_entry")
    op.drop_column("ledger_entry", "recorded_by")
    op.drop_column("ledger_entry", "desk_method")
    op.drop_column("ledger_entry", "channel")
    op.execute("DELETE FROM ledger_entry WHERE attempt_id IS NULL")
    op.alter_column("ledger_entry", "attempt_id", nullable=False)
    DESK_METHOD.drop(op.get_bind())
    CHANNEL.drop(op.get_bind())
    op.drop_column("payment_attempt", "purpose")
    PURPOSE.drop(op.get_bind())
    op.drop_column("class_series", "resource_ids")
    op.add_column("class_session", sa.Column("lane", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE class_session s SET lane = a.lane FROM allocation a"
        " WHERE a.business_id = s.business_id AND a.session_id = s.id AND a.staff_id IS NOT NULL"
    )
    op.execute("DELETE FROM allocation WHERE session_id IS NOT NULL")
    op.alter_column("class_session", "lane", nullable=False)
    op.add_column(
        "class_session",
        sa.Column(
            "span",
            postgresql.INT8RANGE(),
            sa.Computed("booklnk_span(lane, tstzrange(starts_at, ends_at))", persisted=True),
            nullable=False,
        ),
    )
    op.execute(
        "ALTER TABLE class_session ADD CONSTRAINT ex_class_session_instructor "
        "EXCLUDE USING gist (span WITH &&) WHERE (status = 'scheduled')"
    )
    op.drop_index("ix_allocation_session", "allocation")
    op.drop_index("ix_allocation_booking", "allocation")
    op.drop_constraint(op.f("ck_allocation_one_holder"), "allocation")
    op.drop_constraint(op.f("fk_allocation_business_id_session_id_class_session"), "allocation")
    op.drop_constraint("pk_allocation", "allocation", type_="primary")
    op.alter_column("allocation", "booking_id", nullable=False)
    op.create_primary_key("pk_allocation", "allocation", ["business_id", "booking_id", "lane"])
    op.drop_column("allocation", "session_id")
    op.drop_column("allocation", "id")
    op.drop_table("booking_status_change")
    op.drop_constraint(op.f("ck_booking_has_customer"), "booking")
    op.drop_constraint(op.f("ck_booking_deposit_within_price"), "booking")
    op.drop_column("booking", "deposit_minor")
    op.drop_column("booking", "guest_name")
    op.execute("DELETE FROM booking WHERE customer_id IS NULL")
    op.alter_column("booking", "customer_id", nullable=False)
