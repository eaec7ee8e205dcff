"""Tables for accounts, businesses (the tenants) and who may act in which business."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from booklnk.db.base import Base, Timestamped


class Role(enum.StrEnum):
    """A user's role inside one business. "customer" is implicit: anyone signed in."""

    OWNER = "owner"
    STAFF = "staff"


def _role_enum() -> Enum:
    return Enum(Role, name="membership_role", values_callable=lambda e: [m.value for m in e])


class User(Timestamped, Base):
    __tablename__ = "app_user"
    __table_args__ = (
        Index("uq_app_user_email", func.lower(text("email")), unique=True),
        Index("uq_app_user_phone", "phone", unique=True),
        CheckConstraint("language IN ('ar', 'en')", name="language_known"),
        # Every account keeps a way in: an address for codes, or a proven number.
        CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="has_address"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # None for an account made by a phone number alone (a customer booking on a phone).
    email: Mapped[str | None] = mapped_column(String(320))
    full_name: Mapped[str] = mapped_column(String(200))
    # None for an account made by a code: it signs in by codes, never by a password.
    password_hash: Mapped[str | None] = mapped_column(Text)
    is_platform_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the account's messages are written in ("ar" or "en").
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # A mobile number in E.164, set only once a code sent to it came back.
    phone: Mapped[str | None] = mapped_column(String(16))
    # The channels for booking messages, in the order to try them; a channel left out is
    # opted out of. None: the default order (`notifications.recipients`).
    channels: Mapped[list[str] | None] = mapped_column(ARRAY(String(16)))
    # Set when the account was deleted: the row stays for the bookings and money that name
    # it, with nothing personal left in it (`erasure.erase`); its tokens are refused.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class CodePurpose(enum.StrEnum):
    REGISTRATION = "registration"  # proves the e-mail or number; verifying it creates the account
    PASSWORD_RESET = "password_reset"
    PHONE_VERIFICATION = "phone_verification"  # proves a number for a signed-in account
    SIGN_IN = "sign_in"  # signs in without the password


class OneTimeCode(Base):
    """A short code sent to an e-mail address, stored as an HMAC only. No account exists
    until its registration code comes back (with the account's password and name), so
    registering reveals nothing about which addresses have accounts. A code is issued for
    every request, for an address with an account too (`user_id`; a registration's is then
    never sent); a new one for the same address and purpose voids the older ones."""

    __tablename__ = "one_time_code"
    __table_args__ = (
        Index("ix_one_time_code_address_purpose", func.lower(text("address")), "purpose"),
        Index("ix_one_time_code_user_id", "user_id"),
        CheckConstraint("language IN ('ar', 'en')", name="language_known"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    purpose: Mapped[CodePurpose] = mapped_column(
        Enum(CodePurpose, name="code_purpose", values_callable=lambda e: [m.value for m in e])
    )
    address: Mapped[str] = mapped_column(String(320))  # an e-mail address or an E.164 number
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RefreshToken(Base):
    """Refresh tokens are stored hashed; each use rotates to a new row in the same family."""

    __tablename__ = "refresh_token"
    __table_args__ = (
        Index("ix_refresh_token_family", "family_id"),
        Index("ix_refresh_token_user", "user_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    family_id: Mapped[uuid.UUID]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginThrottle(Base):
    """Login failures of a key (an account from one address, or an address), read and
    written under a row lock (`tenancy.throttle` decides)."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The housekeeping job deletes rows past it.
    forget_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Business(Timestamped, Base):
    """The tenant. Its `id` is the tenant key every tenant-owned row carries."""

    __tablename__ = "business"
    __table_args__ = (
        Index("ix_business_business_type_key", "business_type_key"),
        CheckConstraint("slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'", name="slug_format"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_format"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    business_type_key: Mapped[str] = mapped_column(ForeignKey("business_type.key"))
    time_zone: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    rule_overrides: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # Where checkout may send the customer back (return_origins.check normalised them).
    return_origins: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))
    # Customers booking themselves must have proven a mobile number (no-shows are called).
    require_phone: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class Membership(Timestamped, Base):
    __tablename__ = "membership"
    __table_args__ = (Index("ix_membership_user", "user_id"),)

    business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("business.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(_role_enum())


class Invitation(Timestamped, Base):
    __tablename__ = "invitation"
    __table_args__ = (
        ForeignKeyConstraint(["business_id"], ["business.id"], ondelete="CASCADE"),
        Index("ix_invitation_invited_by", "invited_by"),
        Index("ix_invitation_accepted_by", "accepted_by"),
        # Within the business (always looked up with it); SHA-256 of 32 random bytes is
        # unique across tenants without a constraint saying so.
        UniqueConstraint("business_id", "token_hash"),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[Role] = mapped_column(_role_enum())
    token_hash: Mapped[str] = mapped_column(String(64))
    invited_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
