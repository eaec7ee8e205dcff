"""API shapes of the outbox (never the table classes)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from booklnk.notifications.models import Channel, MessageStatus


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    at: datetime
    outcome: str = Field(description="`sent`, `failed` (tried again later) or `refused` (for good).")
    detail: str | None = Field(description="What the provider answered (its id for the message when sent).")


class MessageOut(BaseModel):
    id: uuid.UUID
    channel: Channel
    address: str = Field(description="Where it goes: the customer's e-mail address.")
    template: str = Field(examples=["booking_confirmed", "booking_reminder"])
    language: str
    status: MessageStatus
    created_at: datetime
    sent_at: datetime | None
    attempts: list[AttemptOut]
