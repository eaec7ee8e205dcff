"""An owner's webhook endpoints (register, read, change, delete), their delivery log and
redelivery. Owners only: the API's guard admits nobody else."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.db import jobs
from booklnk.integrations import repository, signing, targets
from booklnk.integrations.errors import (
    EndpointDisabled,
    EndpointNotFound,
    TooManyEndpoints,
    WebhookMessageNotFound,
)
from booklnk.integrations.events import delivery_job
from booklnk.integrations.models import WebhookAttempt, WebhookEndpoint, WebhookMessage
from booklnk.integrations.targets import TargetPolicy
from booklnk.kernel.errors import ValidationFailed
from booklnk.tenancy.context import BusinessContext


@dataclass(frozen=True, slots=True)
class MessageView:
    message: WebhookMessage
    attempts: list[WebhookAttempt]

    @property
    def payload(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.message.body)
        return loaded


async def _check_url(url: str, policy: TargetPolicy) -> None:
    try:
        await targets.check_target(url, policy)
    except targets.Refused as exc:
        raise ValidationFailed.on("body.url", exc.rule, exc.message) from exc


async def register(
    session: AsyncSession,
    ctx: BusinessContext,
    *,
    url: str,
    events: list[str],
    description: str,
    policy: TargetPolicy,
    max_endpoints: int,
    now: datetime,
) -> WebhookEndpoint:
    """A new endpoint with a new secret (the caller shows it once)."""
    await _check_url(url, policy)
    await repository.lock_business_endpoints(session, ctx.business_id)
    if await repository.count_endpoints(session, ctx.business_id) >= max_endpoints:
        raise TooManyEndpoints(
            f"A business has at most {max_endpoints} webhook endpoints.", extra={"limit": max_endpoints}
        )
    endpoint = WebhookEndpoint(
        business_id=ctx.business_id,
        id=uuid.uuid4(),
        url=url,
        description=description,
        events=events,
        secret=signing.new_secret(),
        enabled=True,
        created_at=now,
    )
    await repository.add_endpoint(session, endpoint)
    return endpoint


async def get(session: AsyncSession, ctx: BusinessContext, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = await repository.get_endpoint(session, ctx.business_id, endpoint_id)
    if endpoint is None:
        raise EndpointNotFound("No such webhook endpoint in this business.")
    return endpoint


async def list_page(
    session: AsyncSession, ctx: BusinessContext, *, cursor: str | None, limit: int
) -> tuple[list[WebhookEndpoint], str | None]:
    return await repository.endpoints_page(session, ctx.business_id, cursor=cursor, limit=limit)


async def change(
    session: AsyncSession,
    ctx: BusinessContext,
    endpoint_id: uuid.UUID,
    changes: dict[str, Any],
    *,
    policy: TargetPolicy,
) -> WebhookEndpoint:
    endpoint = await repository.get_endpoint(session, ctx.business_id, endpoint_id, lock=True)
    if endpoint is None:
        raise EndpointNotFound("No such webhook endpoint in this business.")
    if "url" in changes:
        await _check_url(changes["url"], policy)
    if changes.get("enabled") is True and not endpoint.enabled:
        changes |= {"disabled_reason": None, "disabled_at": None, "failing_since": None}
    repository.change_endpoint(endpoint, changes)
    await session.flush()
    return endpoint


async def delete(session: AsyncSession, ctx: BusinessContext, endpoint_id: uuid.UUID) -> None:
    """The endpoint, its messages and their log."""
    if not await repository.delete_endpoint(session, ctx.business_id, endpoint_id):
        raise EndpointNotFound("No such webhook endpoint in this business.")


async def messages(
    session: AsyncSession, ctx: BusinessContext, endpoint_id: uuid.UUID, *, cursor: str | None, limit: int
) -> tuple[list[MessageView], str | None]:
    """The endpoint's messages, newest first, each with every attempt."""
    await get(session, ctx, endpoint_id)
    found, next_cursor = await repository.messages_page(
        session, ctx.business_id, endpoint_id, cursor=cursor, limit=limit
    )
    by_message: dict[uuid.UUID, list[WebhookAttempt]] = defaultdict(list)
    for attempt in await repository.attempts_of(session, ctx.business_id, [m.id for m in found]):
        by_message[attempt.message_id].append(attempt)
    return [MessageView(m, by_message[m.id]) for m in found], next_cursor


async def redeliver(
    session: AsyncSession,
    ctx: BusinessContext,
    endpoint_id: uuid.UUID,
    message_id: uuid.UUID,
    *,
    now: datetime,
) -> MessageView:
    """Send the message again now, with a fresh schedule (and the same `webhook-id`)."""
    endpoint = await get(session, ctx, endpoint_id)
    if not endpoint.enabled:
        raise EndpointDisabled("The endpoint is disabled: enable it first (PATCH enabled=true).")
    message = await repository.get_message(session, ctx.business_id, endpoint_id, message_id)
    if message is None:
        raise WebhookMessageNotFound("No such message of this webhook endpoint.")
    repository.redeliver(message, now)
    job = delivery_job(ctx.business_id, message.id)
    # A retry waiting for its time would hold the new job back (one lock per message).
    assert job.lock is not None
    await jobs.cancel_waiting(session, job.lock)
    await jobs.enqueue(session, job)
    await session.flush()
    attempts = await repository.attempts_of(session, ctx.business_id, [message.id])
    return MessageView(message, attempts)
