"""Recording a message: in the caller's transaction, with the job that will send it, so
the message exists exactly when the event that caused it committed. The only writer of
new `outbox_message` rows."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.db import jobs
from booklnk.db.bound import bound_columns, bound_values
from booklnk.notifications.models import Channel, MessageStatus, OutboxMessage
from booklnk.notifications.recipients import Route

DELIVER = "notifications.deliver"


@dataclass(frozen=True, slots=True)
class Message:
    """What to send to whom. `expires_at` is when it stops being worth sending (a code's
    expiry): until then an unreachable provider only delays it. `dedupe_key`: a second
    message with the same key is not recorded (a rerun, a repeated request)."""

    address: str
    template: str
    language: str
    expires_at: datetime
    params: Mapping[str, Any] = field(default_factory=dict)
    user_id: uuid.UUID | None = None
    business_id: uuid.UUID | None = None  # a business's message: recorded in its tenant
    booking_id: uuid.UUID | None = None
    channel: Channel = Channel.EMAIL
    dedupe_key: str | None = None
    # Where to send it instead when `channel` refuses it (in order).
    fallbacks: Sequence[Route] = ()

    @classmethod
    def by(cls, ways: Sequence[Route], **fields: Any) -> Message:
        """The message to the first of `ways`, falling back on the others."""
        first, *rest = ways
        return cls(address=first.address, channel=first.channel, fallbacks=tuple(rest), **fields)


_COLUMNS = (
    "id",
    "business_id",
    "booking_id",
    "user_id",
    "channel",
    "address",
    "template",
    "locale",
    "params",
    "dedupe_key",
    "fallbacks",
    "status",
    "attempts",
    "expires_at",
    "created_at",
)
# Built once (db.bound): the message's columns are the execution's parameters.
_RECORDED = (
    insert(OutboxMessage)
    .values(bound_columns(OutboxMessage.__table__, _COLUMNS, "m_"))
    .on_conflict_do_nothing(index_elements=["dedupe_key"])
    .returning(OutboxMessage.id)
    .cte("recorded")
)
# The jobs are selected with the recorded row: a message recorded before queues none.
_RECORD = select(_RECORDED.c.id, jobs.deferring_column())


async def record(
    session: AsyncSession, message: Message, *, now: datetime, also: Sequence[jobs.Job] = ()
) -> uuid.UUID | None:
    """Add `message` to the outbox with its delivery and the jobs `also` names (that
    follow from it), in one statement; its id. None when a message with its
    `dedupe_key` was recorded before: nothing is queued (that recording queued them)."""
    message_id = uuid.uuid4()
    row = bound_values(
        "m_",
        {
            "id": message_id,
            "business_id": message.business_id,
            "booking_id": message.booking_id,
            "user_id": message.user_id,
            "channel": message.channel,
            "address": message.address,
            "template": message.template,
            "locale": message.language,
            "params": dict(message.params),
            "dedupe_key": message.dedupe_key,
            "fallbacks": [route.as_json() for route in message.fallbacks],
            "status": MessageStatus.PENDING,
            "attempts": 0,
            "expires_at": message.expires_at,
            "created_at": now,
        },
    )
    queued = jobs.job_params([delivery_job(message_id, message.business_id), *also])
    found = (await session.execute(_RECORD, row | queued)).one_or_none()
    return None if found is None else message_id


async def enqueue_delivery(
    session: AsyncSession, message_id: uuid.UUID, business_id: uuid.UUID | None
) -> None:
    await jobs.enqueue(session, delivery_job(message_id, business_id))


def delivery_job(message_id: uuid.UUID, business_id: uuid.UUID | None) -> jobs.Job:
    # The lock runs one delivery of a message at a time, even when a sweep requeues it.
    args = {"message_id": str(message_id), "business_id": str(business_id) if business_id else None}
    return jobs.Job(DELIVER, args, lock=f"message:{message_id}")
