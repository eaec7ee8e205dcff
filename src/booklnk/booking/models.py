"""Bookings and the time they block on staff and resources."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ColumnElement,
    Computed,
    DateTime,
    Enum,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    String,
    Text,
    column,
    text,
)
from sqlalchemy.dialects.postgresql import INT8RANGE, JSONB, TSTZRANGE, ExcludeConstraint, Range
from sqlalchemy.orm import Mapped, mapped_column

from booklnk.catalog.models import LANE_FITS_SQL
from booklnk.db.base import Base, Timestamped


class BookingStatus(enum.StrEnum):
    HELD = "held"
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    NO_SHOW = "no_show"


def _status_enum() -> Enum:
    return Enum(BookingStatus, name="booking_status", values_callable=lambda e: [m.value for m in e])


class Booking(Timestamped, Base):
    """One customer's appointment or class seat. `version` is bumped by every state change (CAS)."""

    __tablename__ = "booking"
    __table_args__ = (
        ForeignKeyConstraint(["business_id"], ["business.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["business_id", "service_id"], ["service.business_id", "service.id"]),
        ForeignKeyConstraint(["business_id", "staff_id"], ["staff_member.business_id", "staff_member.id"]),
        ForeignKeyConstraint(["customer_id"], ["app_user.id"]),
        ForeignKeyConstraint(
            ["business_id", "customer_record_id"], ["customer_record.business_id", "customer_record.id"]
        ),
        ForeignKeyConstraint(
            ["business_id", "session_id"], ["class_session.business_id", "class_session.id"]
        ),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("status <> 'held' OR hold_expires_at IS NOT NULL", name="held_has_expiry"),
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("deposit_minor BETWEEN 0 AND price_minor", name="deposit_within_price"),
        # A walk-in without an account is booked under a name.
        CheckConstraint("customer_id IS NOT NULL OR guest_name IS NOT NULL", name="has_customer"),
        Index("ix_booking_business_starts", "business_id", "starts_at"),
        Index("ix_booking_business_staff_starts", "business_id", "staff_id", "starts_at"),
        Index("ix_booking_customer", "customer_id", "starts_at"),
        Index(
            "ix_booking_session", "business_id", "session_id", postgresql_where=text("session_id IS NOT NULL")
        ),
        Index(
            "ix_booking_customer_record",
            "business_id",
            "customer_record_id",
            postgresql_where=text("customer_record_id IS NOT NULL"),
        ),
        # The sweep's question: which holds have lapsed?
        Index("ix_booking_held_expiry", "hold_expires_at", postgresql_where=text("status = 'held'")),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    customer_id: Mapped[uuid.UUID | None]
    service_id: Mapped[uuid.UUID]
    staff_id: Mapped[uuid.UUID]
    status: Mapped[BookingStatus] = mapped_column(_status_enum())
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    hold_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    payment_method: Mapped[str | None] = mapped_column(String(20))
    price_minor: Mapped[int] = mapped_column(BigInteger)
    # What must be paid online before the booking is confirmed (the price, a deposit, or
    # 0 when it is paid at the venue), fixed by the policy in force when it was booked.
    deposit_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    extra_fields: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # A seat in a class session (class mode); its time is the session's, and it holds a
    # seat instead of allocations.
    session_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    # Why the status is what it is, when that is not obvious (late money, refunds).
    status_reason: Mapped[str | None] = mapped_column(Text, default=None)
    # A walk-in booked by staff for someone without an account.
    guest_name: Mapped[str | None] = mapped_column(String(200), default=None)
    # The record staff booked it by (a walk-in's, or an account's); None when the customer
    # booked themselves (their account's record is theirs by `customer_id`).
    customer_record_id: Mapped[uuid.UUID | None] = mapped_column(default=None)


class StatusChange(Base):
    """Every status a booking took, by which action, who did it and when (the app's
    clock): written in the statement that changes the status, never changed after. It
    is the audit of undone no-shows and check-ins, and how the state graph is checked
    against what the code really did."""

    __tablename__ = "booking_status_change"
    __table_args__ = (
        # Checked at commit: the booking is written in the same statement, and Citus runs
        # that statement's parts one after another (migration 0033).
        ForeignKeyConstraint(
            ["business_id", "booking_id"],
            ["booking.business_id", "booking.id"],
            ondelete="CASCADE",
            deferrable=True,
            initially="DEFERRED",
        ),
        Index("ix_booking_status_change_booking", "business_id", "booking_id", "id"),
        Index("ix_booking_status_change_business_at", "business_id", "changed_at", "id"),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    booking_id: Mapped[uuid.UUID]
    from_status: Mapped[BookingStatus | None] = mapped_column(_status_enum())  # None: created
    to_status: Mapped[BookingStatus] = mapped_column(_status_enum())
    action: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[uuid.UUID | None]  # None: the system (a payment, a job)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# The longest an allocation may be (a CHECK): the API's longest is a day's service with
# four hours of buffer on each side. A read of busy time near a window looks this far back
# for allocations that started before the window and still run into it.
MAX_ALLOCATION = timedelta(days=2)


class Allocation(Base):
    """The time a booking (buffers included) or a class session blocks on one staff
    member or resource.

    PostgreSQL's exclusion constraint on `span` (lane and period folded into one int8
    range, so core GiST suffices: no btree_gist) makes two active allocations of one
    lane overlapping in time impossible, whatever the application does. Where the server
    has btree_gist, migration 0031 keys it on `business_id WITH =` too (the form Citus
    requires); the lane is one tenant's, so both forms refuse the same overlaps.
    Appointments and classes share it, so a class blocks its room and instructor for
    appointments and the other way round.
    """

    __tablename__ = "allocation"
    __table_args__ = (
        # Checked at commit: the booking is written in the same statement, and Citus runs
        # that statement's parts one after another (migration 0033).
        ForeignKeyConstraint(
            ["business_id", "booking_id"],
            ["booking.business_id", "booking.id"],
            ondelete="CASCADE",
            deferrable=True,
            initially="DEFERRED",
        ),
        ForeignKeyConstraint(
            ["business_id", "session_id"],
            ["class_session.business_id", "class_session.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(["business_id", "staff_id"], ["staff_member.business_id", "staff_member.id"]),
        ForeignKeyConstraint(["business_id", "resource_id"], ["resource.business_id", "resource.id"]),
        CheckConstraint("(staff_id IS NULL) <> (resource_id IS NULL)", name="one_owner"),
        CheckConstraint("(booking_id IS NULL) <> (session_id IS NULL)", name="one_holder"),
        ExcludeConstraint(
            (column("span"), "&&"), where=text("active"), using="gist", name="ex_allocation_overlap"
        ),
        CheckConstraint(LANE_FITS_SQL, name="lane_fits_span"),
        # Busy time is read by lane and start (see `MAX_ALLOCATION` and migration 0030).
        CheckConstraint(
            f"upper(period) - lower(period) <= interval '{MAX_ALLOCATION.days} days'", name="at_most_two_days"
        ),
        Index("ix_allocation_lane_start", "lane", "starts_at"),
        Index("ix_allocation_booking", "business_id", "booking_id"),
        Index("ix_allocation_session", "business_id", "session_id"),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, server_default=text("gen_random_uuid()"))
    booking_id: Mapped[uuid.UUID | None]
    session_id: Mapped[uuid.UUID | None]
    lane: Mapped[int] = mapped_column(BigInteger)
    staff_id: Mapped[uuid.UUID | None]
    resource_id: Mapped[uuid.UUID | None]
    period: Mapped[Range[datetime]] = mapped_column(TSTZRANGE)
    # The period's start as a plain column: row-level security keeps range operators out
    # of index conditions (none is leakproof), a timestamp comparison is let in.
    starts_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), Computed("lower(period)", persisted=True)
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    span: Mapped[Range[int]] = mapped_column(
        INT8RANGE, Computed("booklnk_span(lane, period)", persisted=True)
    )

    @classmethod
    def starting_near(cls, since: Any, until: Any) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
        """Bounds on the start that every allocation overlapping [since, until) meets, for
        the index on (lane, starts_at): an overlap test alone is no index condition under
        row-level security, and the read would visit the lane's whole history."""
        return cls.starts_at >= since - MAX_ALLOCATION, cls.starts_at < until
