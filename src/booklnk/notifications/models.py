"""The outbox: one row per message to send, and one per attempt to send it."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Enum, ForeignKey, Identity, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from booklnk.db.base import Base


class Channel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"


class MessageStatus(enum.StrEnum):
    PENDING = "pending"  # to send (again, after a failed attempt)
    SENT = "sent"  # the provider accepted it
    FAILED = "failed"  # out of attempts, or refused for good
    EXPIRED = "expired"  # no longer worth sending (a code past its expiry)


def _enum(kind: type[enum.StrEnum], name: str) -> Enum:
    return Enum(kind, name=name, values_callable=lambda e: [m.value for m in e])


class OutboxMessage(Base):
    """A message, written in the transaction of the event that causes it (so it exists
    exactly when the event committed) and sent after commit by `notifications.delivery`.

    A message about a business's booking carries the business (row-level security shows it
    to that tenant's transactions only); one about an account carries none (shown only
    outside every tenant). `params` are what its template needs; secrets among them
    (`SECRET_PARAMS`) are erased once the message is sent or expires. `dedupe_key`, when
    set, makes a second recording of the same message a no-op."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("uq_outbox_message_dedupe_key", "dedupe_key", unique=True),
        Index("ix_outbox_message_user_id", "user_id"),
        Index(
            "ix_outbox_message_booking",
            "business_id",
            "booking_id",
            postgresql_where=text("booking_id IS NOT NULL"),
        ),
        Index("ix_outbox_message_provider_id", "provider_message_id"),
        Index(
            "ix_outbox_message_pending",
            "created_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # The order messages were recorded in (many share one `created_at` within a transaction).
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), unique=True)
    business_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"))
    booking_id: Mapped[uuid.UUID | None]
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "message_channel"))
    address: Mapped[str] = mapped_column(String(320))
    template: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8))
    params: Mapped[dict[str, Any]] = mapped_column(JSONB)
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[MessageStatus] = mapped_column(_enum(MessageStatus, "message_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    # Where to send the same message when this channel refuses it: [{"channel", "address"}],
    # in order (the recipient's channel preference).
    fallbacks: Mapped[list[dict[str, str]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    # The provider's last word on it after acceptance (delivered, read, failed, undelivered).
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    delivery_status_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MessageAttempt(Base):
    """One try at sending a message, and what the provider answered."""

    __tablename__ = "message_attempt"
    __table_args__ = (Index("ix_message_attempt_business_id", "business_id"),)

    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_id: Mapped[uuid.UUID | None]  # its message's (row-level security)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(16))  # sent | failed | refused
    detail: Mapped[str | None] = mapped_column(Text)


class DeliveryReport(Base):
    """What a provider reported about a message it accepted, each status once (providers
    repeat reports and do not keep their order)."""

    __tablename__ = "delivery_report"
    __table_args__ = (Index("ix_delivery_report_business_id", "business_id"),)

    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    business_id: Mapped[uuid.UUID | None]  # its message's (row-level security)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # as the provider says
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    error_code: Mapped[int | None] = mapped_column(Integer)
