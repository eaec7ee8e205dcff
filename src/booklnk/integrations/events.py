"""Recording an event for integrators: in the caller's transaction, one message per
enabled endpoint subscribed to it, each with its delivery job, so an event exists exactly
when the change that caused it committed (a crash neither loses nor invents one)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.db import jobs
from booklnk.integrations import repository
from booklnk.integrations.catalogue import EVENT_TYPES

DELIVER = "integrations.deliver_webhook"


def body(event_type: str, data: Mapping[str, Any], now: datetime) -> str:
    """The JSON every attempt sends, byte for byte: `{"type", "timestamp", "data"}`."""
    payload = {"type": event_type, "timestamp": now.isoformat().replace("+00:00", "Z"), "data": dict(data)}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str)


async def subscribers(session: AsyncSession, business_id: uuid.UUID, event_type: str) -> list[uuid.UUID]:
    """The business's enabled endpoints that take `event_type` (none: nothing to build)."""
    return (await subscribers_of(session, business_id, [event_type]))[event_type]


async def subscribers_of(
    session: AsyncSession, business_id: uuid.UUID, event_types: Sequence[str]
) -> dict[str, list[uuid.UUID]]:
    """`subscribers` of several events in one query (a booking born confirmed is two)."""
    if unknown := [event_type for event_type in event_types if event_type not in EVENT_TYPES]:
        raise ValueError(f"not events of the catalogue: {unknown}")
    return await repository.subscribed(session, business_id, event_types)


async def record(
    session: AsyncSession,
    business_id: uuid.UUID,
    event_type: str,
    data: Mapping[str, Any],
    *,
    now: datetime,
    endpoints: Sequence[uuid.UUID] | None = None,
) -> list[uuid.UUID]:
    """The event for each subscribed endpoint (`endpoints`, when the caller asked
    `subscribers` already), with its delivery job; their message ids."""
    if endpoints is None:
        endpoints = await subscribers(session, business_id, event_type)
    if not endpoints:
        return []
    ids = await repository.add_messages(
        session, business_id, endpoints, event_type=event_type, body=body(event_type, data, now), now=now
    )
    await jobs.enqueue_many(session, [delivery_job(business_id, message_id) for message_id in ids])
    return ids


def delivery_job(business_id: uuid.UUID, message_id: uuid.UUID, at: datetime | None = None) -> jobs.Job:
    # The lock runs one delivery of a message at a time, even when a sweep requeues it.
    return jobs.Job(
        DELIVER,
        {"business_id": str(business_id), "message_id": str(message_id)},
        lock=f"webhook:{message_id}",
        scheduled_at=at,
    )
