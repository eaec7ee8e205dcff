"""Class sessions with versioned seat counters, their recurring series, and waitlists;
bookings may hold a seat in a session.

Revision ID: 0007_classes
Revises: 0006_job_queue
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from booklnk.db.rls import tenant_isolation_sql

revision: str = "0007_classes"
down_revision: str | None = "0006_job_queue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "class_series",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("rrule", sa.String(length=500), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("status", sa.Enum("scheduled", "cancelled", name="class_status"), nullable=False),
        sa.Column("materialized_until", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("capacity >= 1", name=op.f("ck_class_series_capacity_positive")),
        sa.ForeignKeyConstraint(
            ["business_id", "service_id"],
            ["service.business_id", "service.id"],
            name=op.f("fk_class_series_business_id_service_id_service"),
        ),
        sa.ForeignKeyConstraint(
            ["business_id", "staff_id"],
            ["staff_member.business_id", "staff_member.id"],
            name=op.f("fk_class_series_business_id_staff_id_staff_member"),
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["business.id"],
            name=op.f("fk_class_series_business_id_business"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("business_id", "id", name=op.f("pk_class_series")),
    )
    op.create_table(
        "class_session",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("series_id", sa.Uuid(), nullable=True),
        sa.Column("occurrence", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detached", sa.Boolean(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("lane", sa.BigInteger(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("seats_taken", sa.Integer(), nullable=False),
        sa.Column("status", sa.Enum("scheduled", "cancelled", name="class_status"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "span",
            postgresql.INT8RANGE(),
            sa.Computed("booklnk_span(lane, tstzrange(starts_at, ends_at))", persisted=True),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        postgresql.ExcludeConstraint(
            (sa.column("span"), "&&"),
            where=sa.text("status = 'scheduled'"),
            using="gist",
            name="ex_class_session_instructor",
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_class_session_ends_after_start")),
        sa.CheckConstraint(
            "seats_taken >= 0 AND seats_taken <= capacity",
            name=op.f("ck_class_session_seats_within_capacity"),
        ),
        sa.ForeignKeyConstraint(
            ["business_id", "series_id"],
            ["class_series.business_id", "class_series.id"],
            name=op.f("fk_class_session_business_id_series_id_class_series"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["business_id", "service_id"],
            ["service.business_id", "service.id"],
            name=op.f("fk_class_session_business_id_service_id_service"),
        ),
        sa.ForeignKeyConstraint(
            ["business_id", "staff_id"],
            ["staff_member.business_id", "staff_member.id"],
            name=op.f("fk_class_session_business_id_staff_id_staff_member"),
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["business.id"],
            name=op.f("fk_class_session_business_id_business"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("business_id", "id", name=op.f("pk_class_session")),
        sa.UniqueConstraint(
            "business_id",
            "series_id",
            "occurrence",
            name=op.f("uq_class_session_business_id_series_id_occurrence"),
        ),
    )
    op.create_index(
        "ix_class_session_business_starts", "class_session", ["business_id", "starts_at"], unique=False
    )
    op.create_table(
        "waitlist_entry",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column(
            "status", sa.Enum("waiting", "promoted", "left", "closed", name="waitlist_status"), nullable=False
        ),
        sa.Column("payment_method", sa.String(length=20), nullable=True),
        sa.Column("extra_fields", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(status = 'promoted') = (booking_id IS NOT NULL)",
            name=op.f("ck_waitlist_entry_promoted_has_booking"),
        ),
        sa.ForeignKeyConstraint(
            ["business_id", "booking_id"],
            ["booking.business_id", "booking.id"],
            name=op.f("fk_waitlist_entry_business_id_booking_id_booking"),
        ),
        sa.ForeignKeyConstraint(
            ["business_id", "session_id"],
            ["class_session.business_id", "class_session.id"],
            name=op.f("fk_waitlist_entry_business_id_session_id_class_session"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["app_user.id"], name=op.f("fk_waitlist_entry_customer_id_app_user")
        ),
        sa.PrimaryKeyConstraint("business_id", "id", name=op.f("pk_waitlist_entry")),
    )
    op.create_index(
        "ix_waitlist_entry_line", "waitlist_entry", ["business_id", "session_id", "position"], unique=False
    )
    op.create_index(
        "uq_waitlist_entry_waiting",
        "waitlist_entry",
        ["business_id", "session_id", "customer_id"],
        unique=True,
        postgresql_where=sa.text("status = 'waiting'"),
    )
    op.add_column("booking", sa.Column("session_id", sa.Uuid(), nullable=True))
    op.create_index(
        "ix_booking_held_expiry",
        "booking",
        ["hold_expires_at"],
        unique=False,
        postgresql_where=sa.text("status = 'held'"),
    )
    op.create_index(
        "ix_booking_session",
        "booking",
        ["business_id", "session_id"],
        unique=False,
        postgresql_where=sa.text("session_id IS NOT NULL"),
    )
    op.create_foreign_key(
        op.f("fk_booking_business_id_session_id_class_session"),
        "booking",
        "class_session",
        ["business_id", "session_id"],
        ["business_id", "id"],
    )
    for table in ("class_series", "class_session", "waitlist_entry"):
        for statement in tenant_isolation_sql(table):
            op.execute(statement)


def downgrade() -> None:
    op.drop_constraint("fk_booking_business_id_session_id_class_session", "booking", type_="foreignkey")
    op.drop_index("ix_booking_session", table_name="booking")
    op.drop_index("ix_booking_held_expiry", table_name="booking")
    op.drop_column("booking", "session_id")
    op.drop_table("waitlist_entry")
    op.drop_table("class_session")
    op.drop_table("class_series")
    op.execute("DROP TYPE waitlist_status")
    op.execute("DROP TYPE class_status")
