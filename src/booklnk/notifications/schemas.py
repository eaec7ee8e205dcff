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
    address: str = Field(description="Where it goes: an e-mail address, or a mobile number in E.164.")
    template: str = Field(examples=["booking_confirmed", "booking_reminder"])
    language: str
    status: MessageStatus
    created_at: datetime
    sent_at: datetime | None
    delivery_status: str | None = Field(
        description="The provider's last report after accepting it: `sent`, `delivered`, `read` (WhatsApp),"
        " `failed` or `undelivered` (then the message went on by the customer's next channel, if any).",
        examples=["delivered"],
    )
    delivery_status_at: datetime | None
    attempts: list[AttemptOut]


class ReportsAck(BaseModel):
    applied: int = Field(description="Reports kept now (a repeat, or one about no message of ours, is not).")
