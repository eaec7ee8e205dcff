"""Class sessions, the recurring series that publish them, and their waitlists."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    String,
    Time,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from booklnk.db.base import Base, Timestamped


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class WaitlistStatus(enum.StrEnum):
    WAITING = "waiting"
    PROMOTED = "promoted"  # given a seat: `booking_id` says which booking
    LEFT = "left"  # the customer stepped out
    CLOSED = "closed"  # the session started or was cancelled first


def _enum(cls: type[enum.StrEnum], name: str) -> Enum:
    return Enum(cls, name=name, values_callable=lambda e: [m.value for m in e])


class ClassSeries(Timestamped, Base):
    """An owner's recurring class: an RRULE over local dates, at one local start time, in
    the rooms (resources) its service needs."""

    __tablename__ = "class_series"
    __table_args__ = (
        ForeignKeyConstraint(["business_id"], ["business.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["business_id", "service_id"], ["service.business_id", "service.id"]),
        ForeignKeyConstraint(["business_id", "staff_id"], ["staff_member.business_id", "staff_member.id"]),
        CheckConstraint("capacity >= 1", name="capacity_positive"),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    service_id: Mapped[uuid.UUID]
    staff_id: Mapped[uuid.UUID]
    rrule: Mapped[str] = mapped_column(String(500))
    starts_on: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time] = mapped_column(Time)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)
    # The resources each occurrence takes (one per kind its service requires).
    resource_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), default=list)
    status: Mapped[SessionStatus] = mapped_column(_enum(SessionStatus, "class_status"))
    # Occurrences are stored up to here; the daily job extends open-ended series.
    materialized_until: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)


class ClassSession(Timestamped, Base):
    """One occurrence: its own time, instructor, rooms and capacity, and the seats taken.

    `seats_taken` is a counter updated only by compare-and-swap on `version`; the CHECK
    makes an overbooked session impossible whatever the application does. A scheduled
    session's instructor and rooms are allocations (`booking.models.Allocation`), under
    the exclusion constraint that guards appointments.
    """

    __tablename__ = "class_session"
    __table_args__ = (
        ForeignKeyConstraint(["business_id"], ["business.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["business_id", "series_id"], ["class_series.business_id", "class_series.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["business_id", "service_id"], ["service.business_id", "service.id"]),
        ForeignKeyConstraint(["business_id", "staff_id"], ["staff_member.business_id", "staff_member.id"]),
        CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="seats_within_capacity"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        UniqueConstraint("business_id", "series_id", "occurrence"),
        Index("ix_class_session_business_starts", "business_id", "starts_at"),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    series_id: Mapped[uuid.UUID | None]
    # The series' original start of this occurrence (stays put when it is moved), so
    # re-materialising a series never duplicates one.
    occurrence: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    detached: Mapped[bool] = mapped_column(default=False)  # edited alone: series edits skip it
    service_id: Mapped[uuid.UUID]
    staff_id: Mapped[uuid.UUID]
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    capacity: Mapped[int] = mapped_column(Integer)
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[SessionStatus] = mapped_column(_enum(SessionStatus, "class_status"))
    version: Mapped[int] = mapped_column(Integer, default=1)


class WaitlistEntry(Base):
    """A customer in line for a full session; `position` orders the line (first come)."""

    __tablename__ = "waitlist_entry"
    __table_args__ = (
        ForeignKeyConstraint(
            ["business_id", "session_id"],
            ["class_session.business_id", "class_session.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(["business_id", "booking_id"], ["booking.business_id", "booking.id"]),
        ForeignKeyConstraint(["customer_id"], ["app_user.id"]),
        CheckConstraint("(status = 'promoted') = (booking_id IS NOT NULL)", name="promoted_has_booking"),
        Index(
            "uq_waitlist_entry_waiting",
            "business_id",
            "session_id",
            "customer_id",
            unique=True,
            postgresql_where=text("status = 'waiting'"),
        ),
        Index("ix_waitlist_entry_line", "business_id", "session_id", "position"),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID]
    customer_id: Mapped[uuid.UUID]
    position: Mapped[int] = mapped_column(BigInteger, Identity(always=True))
    status: Mapped[WaitlistStatus] = mapped_column(_enum(WaitlistStatus, "waitlist_status"))
    payment_method: Mapped[str | None] = mapped_column(String(20))
    extra_fields: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    booking_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
