"""The audit event table (its writer: `audit.log`). The app role may only insert."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKeyConstraint, Identity, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from booklnk.db.base import Base


class AuditEvent(Base):
    """One change someone made: `action` names it (`service.updated`, `refund.requested`,
    …), `subject_*` what it was made to, `booking_id` the booking it concerns if any,
    `details` what changed (never a secret). `actor_id` None: the system."""

    __tablename__ = "audit_event"
    __table_args__ = (
        ForeignKeyConstraint(["business_id"], ["business.id"], ondelete="CASCADE"),
        Index("ix_audit_event_business_at", "business_id", "at", "id"),
        Index(
            "ix_audit_event_booking",
            "business_id",
            "booking_id",
            postgresql_where=text("booking_id IS NOT NULL"),
        ),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    actor_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    booking_id: Mapped[uuid.UUID | None]
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
