"""Sending one outbox message: claim it, send it outside any transaction, record what the
provider answered. Run by the worker's `notifications.deliver` job (one at a time per
message: the job's lock).

A message is sent at most once per attempt and never after it was sent: a rerun of a job
whose message is `sent` does nothing. The one window left is a crash between the provider
accepting the message and the answer being recorded; the rerun then sends it again, under
the same Message-ID, which mail clients fold into one (at least once, never lost)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.db.database import Database
from booklnk.notifications import repository
from booklnk.notifications.channel import Outgoing, Refused, Sender, Unavailable
from booklnk.notifications.models import MessageStatus, OutboxMessage
from booklnk.notifications.outbox import DELIVER, enqueue_delivery
from booklnk.notifications.rendering import render

log = structlog.get_logger(__name__)

# Parameters erased once a message is sent or gone: codes are proof of an e-mail address
# and must not outlive their use in the database.
SECRET_PARAMS = ("code",)

Outcome = Literal["sent", "failed", "expired", "already"]


@dataclass(frozen=True, slots=True)
class _Claimed:
    message_id: uuid.UUID
    business_id: uuid.UUID | None
    outgoing: Outgoing
    attempt: int


def reference(business_id: uuid.UUID | None, message_id: uuid.UUID) -> str:
    """What a provider hands back with its delivery reports: enough to find the message
    (its tenant first: row-level security shows a message to its own tenant only)."""
    return f"{business_id or 'platform'}:{message_id}"


def parse_reference(value: str) -> tuple[uuid.UUID | None, uuid.UUID] | None:
    tenant, _, message = value.partition(":")
    try:
        return (None if tenant == "platform" else uuid.UUID(tenant)), uuid.UUID(message)
    except ValueError:
        return None


async def deliver(
    db: Database, send: Sender, message_id: uuid.UUID, business_id: uuid.UUID | None, *, now: datetime
) -> Outcome:
    """Send the message (of `business_id`, or the platform's) if it is still to send."""
    async with db.transaction(tenant_id=business_id) as session:
        message = await repository.lock_message(session, message_id)
        if message is None or message.status is not MessageStatus.PENDING:
            return "already"
        if message.expires_at is not None and message.expires_at <= now:
            _finish(message, MessageStatus.EXPIRED)
            return "expired"
        message.attempts += 1
        outgoing = Outgoing(
            key=str(message_id),
            address=message.address,
            template=message.template,
            language=message.locale,
            params=dict(message.params),
            rendered=render(message.template, message.locale, message.params),
            reference=reference(business_id, message_id),
        )
        claimed = _Claimed(message_id, business_id, outgoing, message.attempts)
    try:
        provider_id = await send(claimed.outgoing)
    except Refused as exc:
        await _record(db, claimed, now, "refused", str(exc), MessageStatus.FAILED)
        log.warning("message_refused", message_id=str(message_id), reason=str(exc))
        return "failed"
    except Unavailable as exc:
        await _record(db, claimed, now, "failed", str(exc), None)
        raise
    await _record(db, claimed, now, "sent", provider_id, MessageStatus.SENT)
    return "sent"


async def _record(
    db: Database, claimed: _Claimed, now: datetime, outcome: str, detail: str, status: MessageStatus | None
) -> None:
    async with db.transaction(tenant_id=claimed.business_id) as session:
        repository.add_attempt(
            session,
            claimed.message_id,
            claimed.attempt,
            business_id=claimed.business_id,
            at=now,
            outcome=outcome,
            detail=detail[:1000],
        )
        message = await repository.lock_message(session, claimed.message_id)
        assert message is not None  # (messages are never deleted while pending)
        if status is not None:
            _finish(message, status)
            if status is MessageStatus.SENT:
                message.sent_at, message.provider_message_id = now, detail[:200]


def _finish(message: OutboxMessage, status: MessageStatus) -> None:
    message.status = status
    message.params = {k: v for k, v in message.params.items() if k not in SECRET_PARAMS}


_ORPHANED = text(
    "SELECT m.id, m.business_id FROM outbox_message m WHERE m.status = 'pending'"
    " AND m.created_at < CAST(:now AS timestamptz) - interval '5 minutes'"
    " AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j WHERE j.task_name = :task"
    " AND j.status IN ('todo', 'doing') AND j.args->>'message_id' = m.id::text)"
    " ORDER BY m.created_at LIMIT 500"
)


async def requeue_orphaned(session: AsyncSession, *, now: datetime) -> int:
    """Queue again every pending message whose job is gone (out of retries through a long
    outage, or its worker died): an outage delays messages and loses none, until each
    message's own expiry. How many were queued. (Those of the session's tenant, or the
    platform's outside every tenant.)"""
    rows = (await session.execute(_ORPHANED, {"now": now, "task": DELIVER})).all()
    for message_id, business_id in rows:
        await enqueue_delivery(session, message_id, business_id)
    return len(rows)
