"""All SQL of the integrations domain: the one writer of `webhook_endpoint`,
`webhook_message` and `webhook_attempt`. Every statement runs in the caller's tenant
(row-level security), and names its business as well."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.db.jobs import without_live_job
from booklnk.db.pagination import fetch_page
from booklnk.integrations.models import WebhookAttempt, WebhookEndpoint, WebhookMessage, WebhookStatus
from booklnk.tenancy.models import Business, Membership, Role, User


async def count_endpoints(session: AsyncSession, business_id: uuid.UUID) -> int:
    stmt = select(func.count()).select_from(WebhookEndpoint).where(WebhookEndpoint.business_id == business_id)
    return int((await session.execute(stmt)).scalar_one())


async def lock_business_endpoints(session: AsyncSession, business_id: uuid.UUID) -> None:
    """Serialise registrations of one business (the cap is counted under it)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended('webhook_endpoint:' || CAST(:b AS text), 0))"),
        {"b": str(business_id)},
    )


async def add_endpoint(session: AsyncSession, endpoint: WebhookEndpoint) -> None:
    session.add(endpoint)
    await session.flush()


async def get_endpoint(
    session: AsyncSession, business_id: uuid.UUID, endpoint_id: uuid.UUID, *, lock: bool = False
) -> WebhookEndpoint | None:
    stmt = select(WebhookEndpoint).where(
        WebhookEndpoint.business_id == business_id, WebhookEndpoint.id == endpoint_id
    )
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()


async def endpoints_page(
    session: AsyncSession, business_id: uuid.UUID, *, cursor: str | None, limit: int
) -> tuple[list[WebhookEndpoint], str | None]:
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.business_id == business_id)
    return await fetch_page(
        session, stmt, order_by=[WebhookEndpoint.created_at, WebhookEndpoint.id], cursor=cursor, limit=limit
    )


def change_endpoint(endpoint: WebhookEndpoint, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        setattr(endpoint, name, value)


async def delete_endpoint(session: AsyncSession, business_id: uuid.UUID, endpoint_id: uuid.UUID) -> bool:
    deleted = await session.execute(
        delete(WebhookEndpoint)
        .where(WebhookEndpoint.business_id == business_id, WebhookEndpoint.id == endpoint_id)
        .returning(WebhookEndpoint.id)
    )
    return deleted.scalar_one_or_none() is not None


# Built once (it runs for every booking, mostly to find no endpoint): an endpoint takes one
# of the event types when its list and theirs overlap.
_SUBSCRIBED = select(WebhookEndpoint.id, WebhookEndpoint.events).where(
    WebhookEndpoint.business_id == bindparam("business_id"),
    WebhookEndpoint.enabled,
    WebhookEndpoint.events.bool_op("&&")(
        bindparam("event_types", type_=WebhookEndpoint.__table__.c.events.type)
    ),
)


async def subscribed(
    session: AsyncSession, business_id: uuid.UUID, event_types: Sequence[str]
) -> dict[str, list[uuid.UUID]]:
    """The business's enabled endpoints that take each of `event_types`, in one query."""
    found: dict[str, list[uuid.UUID]] = {event_type: [] for event_type in event_types}
    params = {"business_id": business_id, "event_types": list(event_types)}
    for endpoint_id, taken in await session.execute(_SUBSCRIBED, params):
        for event_type in event_types:
            if event_type in taken:
                found[event_type].append(endpoint_id)
    return found


async def add_messages(
    session: AsyncSession,
    business_id: uuid.UUID,
    endpoint_ids: Sequence[uuid.UUID],
    *,
    event_type: str,
    body: str,
    now: datetime,
) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in endpoint_ids]
    rows: list[dict[str, Any]] = [
        {
            "business_id": business_id,
            "id": message_id,
            "endpoint_id": endpoint_id,
            "event_type": event_type,
            "body": body,
            "status": WebhookStatus.PENDING,
            "attempts": 0,
            "failures": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for message_id, endpoint_id in zip(ids, endpoint_ids, strict=True)
    ]
    if rows:
        await session.execute(insert(WebhookMessage), rows)
    return ids


async def lock_message(
    session: AsyncSession, business_id: uuid.UUID, message_id: uuid.UUID
) -> WebhookMessage | None:
    stmt = (
        select(WebhookMessage)
        .where(WebhookMessage.business_id == business_id, WebhookMessage.id == message_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def claim(message: WebhookMessage) -> int:
    """The number of the attempt about to be made."""
    message.attempts += 1
    return message.attempts


def delivered(message: WebhookMessage, endpoint: WebhookEndpoint, now: datetime) -> None:
    message.status, message.delivered_at, message.next_attempt_at = WebhookStatus.DELIVERED, now, None
    endpoint.failing_since = None


def failed_attempt(message: WebhookMessage, endpoint: WebhookEndpoint, now: datetime) -> int:
    """Counts the failure; the message's failures so far."""
    message.failures += 1
    if endpoint.failing_since is None:
        endpoint.failing_since = now
    return message.failures


def retry_at(message: WebhookMessage, at: datetime | None) -> None:
    """Tried again at `at`, or given up (None)."""
    message.next_attempt_at = at
    if at is None:
        message.status = WebhookStatus.FAILED


def disable(endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    endpoint.enabled, endpoint.disabled_reason, endpoint.disabled_at = False, reason[:300], now


def give_up(message: WebhookMessage) -> None:
    message.status, message.next_attempt_at = WebhookStatus.FAILED, None


def redeliver(message: WebhookMessage, now: datetime) -> None:
    message.status, message.failures, message.next_attempt_at = WebhookStatus.PENDING, 0, now


async def add_attempt(
    session: AsyncSession,
    business_id: uuid.UUID,
    message_id: uuid.UUID,
    number: int,
    *,
    at: datetime,
    status_code: int | None,
    response_excerpt: str | None,
    duration_ms: int,
    error: str | None,
) -> None:
    await session.execute(
        insert(WebhookAttempt).values(
            business_id=business_id,
            message_id=message_id,
            number=number,
            at=at,
            status_code=status_code,
            response_excerpt=response_excerpt,
            duration_ms=duration_ms,
            error=error,
        )
    )


async def get_message(
    session: AsyncSession, business_id: uuid.UUID, endpoint_id: uuid.UUID, message_id: uuid.UUID
) -> WebhookMessage | None:
    stmt = select(WebhookMessage).where(
        WebhookMessage.business_id == business_id,
        WebhookMessage.endpoint_id == endpoint_id,
        WebhookMessage.id == message_id,
    )
    return (await session.execute(stmt.with_for_update())).scalar_one_or_none()


async def messages_page(
    session: AsyncSession, business_id: uuid.UUID, endpoint_id: uuid.UUID, *, cursor: str | None, limit: int
) -> tuple[list[WebhookMessage], str | None]:
    """Newest first."""
    stmt = select(WebhookMessage).where(
        WebhookMessage.business_id == business_id, WebhookMessage.endpoint_id == endpoint_id
    )
    return await fetch_page(
        session,
        stmt,
        order_by=[WebhookMessage.created_at, WebhookMessage.id],
        cursor=cursor,
        limit=limit,
        descending=True,
    )


async def attempts_of(
    session: AsyncSession, business_id: uuid.UUID, message_ids: Sequence[uuid.UUID]
) -> list[WebhookAttempt]:
    if not message_ids:
        return []
    stmt = (
        select(WebhookAttempt)
        .where(WebhookAttempt.business_id == business_id, WebhookAttempt.message_id.in_(message_ids))
        .order_by(WebhookAttempt.message_id, WebhookAttempt.number)
    )
    return list((await session.execute(stmt)).scalars())


async def fail_pending_of(session: AsyncSession, business_id: uuid.UUID, endpoint_id: uuid.UUID) -> None:
    """A disabled endpoint's messages still waiting are given up (redelivery revives one)."""
    await session.execute(
        update(WebhookMessage)
        .where(
            WebhookMessage.business_id == business_id,
            WebhookMessage.endpoint_id == endpoint_id,
            WebhookMessage.status == WebhookStatus.PENDING,
        )
        .values(status=WebhookStatus.FAILED, next_attempt_at=None)
    )


_ORPHANED = text(
    "SELECT m.id FROM webhook_message m WHERE m.business_id = :business_id AND m.status = 'pending'"
    " AND m.next_attempt_at <= CAST(:due AS timestamptz) AND "
    + without_live_job("m.id::text", "message_id")
    + " ORDER BY m.next_attempt_at LIMIT 500"
)


async def orphaned(
    session: AsyncSession, business_id: uuid.UUID, *, due: datetime, task: str
) -> list[uuid.UUID]:
    """Pending messages due by `due` with no job to deliver them (it died, or ran early)."""
    rows = await session.execute(_ORPHANED, {"business_id": business_id, "due": due, "task": task})
    return [row[0] for row in rows]


async def owners_to_tell(session: AsyncSession, business_id: uuid.UUID) -> list[tuple[uuid.UUID, str, str]]:
    """The business's owners (id, e-mail, language), and its name and zone: who is told
    when one of its endpoints is disabled. (A read of tenancy's tables.) An owner whose
    account has no e-mail address is left out: the notice is an e-mail's."""
    stmt = (
        select(User.id, User.email, User.language)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.business_id == business_id, Membership.role == Role.OWNER, User.email.is_not(None))
        .order_by(User.id)
    )
    return [(row[0], row[1] or "", row[2]) for row in await session.execute(stmt)]


async def business_name_and_zone(session: AsyncSession, business_id: uuid.UUID) -> tuple[str, str]:
    row = (
        await session.execute(select(Business.name, Business.time_zone).where(Business.id == business_id))
    ).one()
    return row[0], row[1]
