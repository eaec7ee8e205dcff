"""An owner's webhook endpoints, the messages recorded for each, and every attempt to
deliver one. Tenant tables: `business_id` first, behind row-level security."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    ARRAY,
    Boolean,
    DateTime,
    Enum,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from booklnk.db.base import Base


class WebhookStatus(enum.StrEnum):
    PENDING = "pending"  # to deliver (again, at `next_attempt_at`)
    DELIVERED = "delivered"  # a 2xx answer
    FAILED = "failed"  # out of attempts, or its endpoint was disabled


class WebhookEndpoint(Base):
    """Where an owner wants events: a URL, the events it takes, and the secret its
    deliveries are signed with (`whsec_…`, shown once, when it is created).

    `failing_since`: the first failed attempt since the last delivered one (None while it
    answers); an endpoint failing for too long is disabled with `disabled_reason`."""

    __tablename__ = "webhook_endpoint"
    __table_args__ = (ForeignKeyConstraint(["business_id"], ["business.id"], ondelete="CASCADE"),)

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(200), server_default="")
    events: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    secret: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebhookMessage(Base):
    """One event for one endpoint, written in the transaction of the change that caused it
    (with its delivery job): it exists exactly when the change committed. `body` is the
    JSON sent, byte for byte the same on every attempt; its id is the `webhook-id`."""

    __tablename__ = "webhook_message"
    __table_args__ = (
        ForeignKeyConstraint(
            ["business_id", "endpoint_id"],
            ["webhook_endpoint.business_id", "webhook_endpoint.id"],
            ondelete="CASCADE",
        ),
        Index("ix_webhook_message_endpoint", "business_id", "endpoint_id", "created_at", "id"),
        Index(
            "ix_webhook_message_pending",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    endpoint_id: Mapped[uuid.UUID]
    event_type: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[WebhookStatus] = mapped_column(
        Enum(WebhookStatus, name="webhook_status", values_callable=lambda e: [m.value for m in e])
    )
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # Failed attempts since it was recorded (or last redelivered): where the schedule stands.
    failures: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookAttempt(Base):
    """One try at delivering a message: what the endpoint answered (its status and the
    start of its body), how long it took, or the error that stopped it."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (
        ForeignKeyConstraint(
            ["business_id", "message_id"],
            ["webhook_message.business_id", "webhook_message.id"],
            ondelete="CASCADE",
        ),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    message_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_excerpt: Mapped[str | None] = mapped_column(String(1000))
    duration_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(300))
