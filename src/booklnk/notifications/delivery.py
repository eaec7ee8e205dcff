"""Sending one outbox message: claim it, send it outside any transaction by its channel,
record what the provider answered. Run by the worker's `notifications.deliver` job (one at
a time per message: the job's lock).

A message is sent at most once per attempt and never after it was sent: a rerun of a job
whose message is `sent` does nothing. The one window left is a crash between the provider
accepting the message and the answer being recorded; the rerun then sends it again, under
the same key (for e-mail the Message-ID, which mail clients fold into one): at least once,
never lost.

A channel that refuses a message for good (a number not on WhatsApp, a channel this
deployment has no provider for) hands it to the next channel of the recipient's choice: a
new message, recorded with the refusal, in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.db.database import Database
from booklnk.db.jobs import without_live_job
from booklnk.notifications import outbox, repository
from booklnk.notifications.channel import Outgoing, Refused, Sender, Unavailable
from booklnk.notifications.models import Channel, MessageStatus, OutboxMessage
from booklnk.notifications.outbox import DELIVER, enqueue_delivery
from booklnk.notifications.recipients import Route
from booklnk.notifications.rendering import render

log = structlog.get_logger(__name__)

# Parameters erased once a message can no longer be sent (or sent again by a fallback):
# codes and invitation tokens are proof of an address and must not outlive their use in
# the database.
SECRET_PARAMS = ("code", "token")

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


# What a message's kept parameters become just before it is written: links made then
# (a pay link is sealed with a key the outbox never holds).
Expand = Callable[[Mapping[str, Any]], dict[str, Any]]


async def deliver(
    db: Database,
    senders: Mapping[Channel, Sender],
    message_id: uuid.UUID,
    business_id: uuid.UUID | None,
    *,
    now: datetime,
    expand: Expand = dict,
) -> Outcome:
    """Send the message (of `business_id`, or the platform's) if it is still to send, by
    the sender of its channel."""
    async with db.transaction(tenant_id=business_id) as session:
        message = await repository.lock_message(session, message_id)
        if message is None or message.status is not MessageStatus.PENDING:
            return "already"
        if message.expires_at is not None and message.expires_at <= now:
            _finish(message, MessageStatus.EXPIRED)
            return "expired"
        message.attempts += 1
        params = expand(message.params)
        outgoing = Outgoing(
            key=str(message_id),
            address=message.address,
            template=message.template,
            language=message.locale,
            params=params,
            rendered=render(message.template, message.locale, params),
            reference=reference(business_id, message_id),
        )
        claimed = _Claimed(message_id, business_id, outgoing, message.attempts)
        send = senders.get(message.channel)
    try:
        if send is None:
            raise Refused(f"no {message.channel.value} provider is configured")
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
        # A failure the provider reported before this answer was recorded (a fast status
        # webhook) hands the message on now, as the report would have.
        reported_failed = message.delivery_status in ("failed", "undelivered")
        if status is MessageStatus.FAILED or (status is MessageStatus.SENT and reported_failed):
            await fall_back(session, message, now=now)
        if status is not None:
            _finish(message, status)
            if status is MessageStatus.SENT:
                message.sent_at, message.provider_message_id = now, detail[:200]


async def fall_back(session: AsyncSession, message: OutboxMessage, *, now: datetime) -> uuid.UUID | None:
    """The same message by the next of its fallback channels, if it has one and is still
    worth sending; the new message's id. Its fallbacks move with it (and leave this one,
    so a second refusal or report cannot hand it on twice)."""
    if not message.fallbacks or (message.expires_at is not None and message.expires_at <= now):
        return None
    first, *rest = (Route.from_json(value) for value in message.fallbacks)
    message.fallbacks = []
    return await outbox.record(
        session,
        outbox.Message(
            address=first.address,
            channel=first.channel,
            fallbacks=tuple(rest),
            template=message.template,
            language=message.locale,
            params=message.params,
            user_id=message.user_id,
            business_id=message.business_id,
            booking_id=message.booking_id,
            expires_at=message.expires_at or now,
            dedupe_key=f"{message.dedupe_key}:{first.channel.value}" if message.dedupe_key else None,
        ),
        now=now,
    )


def _finish(message: OutboxMessage, status: MessageStatus) -> None:
    message.status = status
    # A sent message that may still fall back (its channel reports failure later) keeps
    # its code until it expires (`erase_expired_secrets`).
    if status is not MessageStatus.SENT or not message.fallbacks:
        message.params = erased(message.params)


def erased(params: Mapping[str, object]) -> dict[str, object]:
    return {k: v for k, v in params.items() if k not in SECRET_PARAMS}


_ORPHANED = text(
    "SELECT m.id, m.business_id FROM outbox_message m WHERE m.status = 'pending'"
    " AND m.created_at < CAST(:now AS timestamptz) - interval '5 minutes' AND "
    + without_live_job("m.id::text", "message_id")
    + " ORDER BY m.created_at LIMIT 500"
)

_ERASE_EXPIRED = text(
    "UPDATE outbox_message SET params = params - CAST(:keys AS text[])"
    " WHERE status = 'sent' AND expires_at < CAST(:now AS timestamptz) AND params ?| CAST(:keys AS text[])"
)


async def requeue_orphaned(session: AsyncSession, *, now: datetime) -> int:
    """Queue again every pending message whose job is gone (out of retries through a long
    outage, or its worker died): an outage delays messages and loses none, until each
    message's own expiry. How many were queued. (Those of the session's tenant, or the
    platform's outside every tenant.) Also erases the codes of sent messages now expired."""
    await session.execute(_ERASE_EXPIRED, {"now": now, "keys": list(SECRET_PARAMS)})
    rows = (await session.execute(_ORPHANED, {"now": now, "task": DELIVER})).all()
    for message_id, business_id in rows:
        await enqueue_delivery(session, message_id, business_id)
    return len(rows)
