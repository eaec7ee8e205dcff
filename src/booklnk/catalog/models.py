"""Tables of a business's catalog: services, staff, resources and their schedules.

Every table's primary key starts with `business_id`, and every reference to another
catalog row is a composite foreign key `(business_id, x_id)`, so PostgreSQL itself makes a
row pointing at another tenant's row impossible. Wall-clock times are `time` in the
business's zone; an interval ending at midnight stores its end as 00:00 (see
`schedule_rules.to_db_time`). Instants are `timestamptz`.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    CHAR,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from booklnk.db.base import Base, Timestamped


class OwnerKind(enum.StrEnum):
    """Whose schedule a row belongs to: the business (opening hours), a staff member or a resource."""

    BUSINESS = "business"
    STAFF = "staff"
    RESOURCE = "resource"


class IntervalKind(enum.StrEnum):
    HOURS = "hours"
    BREAK = "break"


OWNER_SQL = {
    OwnerKind.BUSINESS: "(owner_kind = 'business' AND staff_id IS NULL AND resource_id IS NULL)",
    OwnerKind.STAFF: "(owner_kind = 'staff' AND staff_id IS NOT NULL AND resource_id IS NULL)",
    OwnerKind.RESOURCE: "(owner_kind = 'resource' AND resource_id IS NOT NULL AND staff_id IS NULL)",
}
ALL_OWNERS_SQL = " OR ".join(OWNER_SQL.values())
MEMBERS_OWNERS_SQL = f"{OWNER_SQL[OwnerKind.STAFF]} OR {OWNER_SQL[OwnerKind.RESOURCE]}"
KIND_SLUG_SQL = "kind ~ '^[a-z][a-z0-9_-]{0,39}$'"
END_AFTER_START_SQL = "end_time > start_time OR end_time = '00:00'"


def _tenant_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["business_id"], ["business.id"], ondelete="CASCADE")


def _owner_fks() -> tuple[ForeignKeyConstraint, ForeignKeyConstraint]:
    return (
        ForeignKeyConstraint(
            ["business_id", "staff_id"], ["staff_member.business_id", "staff_member.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["business_id", "resource_id"], ["resource.business_id", "resource.id"], ondelete="CASCADE"
        ),
    )


LANE_DEFAULT = text("nextval('booklnk_lane_seq')")
# A lane fits the span's 29 bits above the seconds (`booklnk_span`): a sequence started
# elsewhere (Citus starts a worker's copy at 2^48) is refused, never wrapped onto another lane.
LANE_FITS_SQL = "lane BETWEEN 1 AND 536870911"


class StaffMember(Timestamped, Base):
    """A person who performs services, optionally linked to a member's user account."""

    __tablename__ = "staff_member"
    __table_args__ = (
        _tenant_fk(),
        # Removing the member keeps the staff member's calendar and only unlinks the
        # account: `flows.team.remove_member` unlinks it first (not `ON DELETE SET NULL
        # (user_id)`, which Citus does not accept), and this refuses a removal that did not.
        ForeignKeyConstraint(["business_id", "user_id"], ["membership.business_id", "membership.user_id"]),
        UniqueConstraint("business_id", "user_id"),
        UniqueConstraint("business_id", "lane"),
        CheckConstraint(LANE_FITS_SQL, name="lane_fits_span"),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    display_name: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[uuid.UUID | None]
    # A number unique across all tenants (one sequence; the constraint says within its
    # business, the form a tenant-sharded server can check): the exclusion constraint on
    # allocations keys on it (see booking.models.Allocation).
    lane: Mapped[int] = mapped_column(BigInteger, server_default=LANE_DEFAULT)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Resource(Timestamped, Base):
    """A bookable thing a service may need: a chair, a room, a piece of equipment."""

    __tablename__ = "resource"
    __table_args__ = (
        _tenant_fk(),
        CheckConstraint(KIND_SLUG_SQL, name="kind_format"),
        Index("ix_resource_kind", "business_id", "kind"),
        UniqueConstraint("business_id", "lane"),
        CheckConstraint(LANE_FITS_SQL, name="lane_fits_span"),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    # A number unique across all tenants (one sequence; the constraint says within its
    # business, the form a tenant-sharded server can check): the exclusion constraint on
    # allocations keys on it (see booking.models.Allocation).
    lane: Mapped[int] = mapped_column(BigInteger, server_default=LANE_DEFAULT)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Service(Timestamped, Base):
    """Something a customer books. Null buffers mean "the business type's default"."""

    __tablename__ = "service"
    __table_args__ = (
        _tenant_fk(),
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_format"),
        CheckConstraint(
            "cardinality(duration_options_minutes) >= 1 AND 0 < ALL (duration_options_minutes)",
            name="durations_positive",
        ),
        CheckConstraint(
            "coalesce(buffer_before_minutes, 0) >= 0 AND coalesce(buffer_after_minutes, 0) >= 0",
            name="buffers_not_negative",
        ),
        CheckConstraint("capacity >= 1", name="capacity_positive"),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    duration_options_minutes: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(CHAR(3))
    buffer_before_minutes: Mapped[int | None] = mapped_column(Integer)
    buffer_after_minutes: Mapped[int | None] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)
    required_resource_kinds: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    # The business's payment rules changed for this service only (payment_policy,
    # deposit_percent, payment_methods), within the type's bounds like the business's own.
    payment_overrides: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ServiceStaff(Base):
    """Which staff members perform which service."""

    __tablename__ = "service_staff"
    __table_args__ = (
        _tenant_fk(),
        ForeignKeyConstraint(
            ["business_id", "service_id"], ["service.business_id", "service.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["business_id", "staff_id"], ["staff_member.business_id", "staff_member.id"], ondelete="CASCADE"
        ),
        Index("ix_service_staff_staff", "business_id", "staff_id"),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    service_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    staff_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


class _OwnedSchedule:
    """The owner columns shared by schedule tables; `owner_kind` says which one applies."""

    owner_kind: Mapped[str] = mapped_column(String(10))
    staff_id: Mapped[uuid.UUID | None] = mapped_column()
    resource_id: Mapped[uuid.UUID | None] = mapped_column()


class WeeklyInterval(_OwnedSchedule, Base):
    """One interval of an owner's recurring week: working hours or a break."""

    __tablename__ = "weekly_interval"
    __table_args__ = (
        _tenant_fk(),
        *_owner_fks(),
        CheckConstraint(ALL_OWNERS_SQL, name="one_owner"),
        CheckConstraint("kind IN ('hours', 'break')", name="kind_valid"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint(END_AFTER_START_SQL, name="end_after_start"),
        Index("ix_weekly_interval_staff", "business_id", "staff_id"),
        Index("ix_weekly_interval_resource", "business_id", "resource_id"),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(10))
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)


class TimeOff(_OwnedSchedule, Timestamped, Base):
    """An absolute period a staff member or resource is unavailable (holiday, repair)."""

    __tablename__ = "time_off"
    __table_args__ = (
        _tenant_fk(),
        *_owner_fks(),
        CheckConstraint(MEMBERS_OWNERS_SQL, name="one_owner"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_time_off_staff", "business_id", "staff_id", "starts_at"),
        Index("ix_time_off_resource", "business_id", "resource_id", "starts_at"),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(200), default="")


class DateOverride(_OwnedSchedule, Timestamped, Base):
    """One local date on which an owner is closed or keeps special hours instead of its week."""

    __tablename__ = "date_override"
    __table_args__ = (
        _tenant_fk(),
        *_owner_fks(),
        CheckConstraint(ALL_OWNERS_SQL, name="one_owner"),
        # NULLS NOT DISTINCT: the business's own overrides (both owner ids null) are unique too.
        UniqueConstraint(
            "business_id",
            "owner_kind",
            "staff_id",
            "resource_id",
            "override_date",
            name="uq_date_override_owner_date",
            postgresql_nulls_not_distinct=True,
        ),
        Index("ix_date_override_staff", "business_id", "staff_id"),
        Index("ix_date_override_resource", "business_id", "resource_id"),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    override_date: Mapped[date] = mapped_column(Date)
    closed: Mapped[bool] = mapped_column(Boolean)


class DateOverrideInterval(Base):
    """The special hours of an override that is not a closure."""

    __tablename__ = "date_override_interval"
    __table_args__ = (
        _tenant_fk(),
        ForeignKeyConstraint(
            ["business_id", "override_id"],
            ["date_override.business_id", "date_override.id"],
            ondelete="CASCADE",
        ),
        CheckConstraint(END_AFTER_START_SQL, name="end_after_start"),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    override_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
