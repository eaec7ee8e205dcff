"""Delivering one webhook message: claim it, check where it goes (SSRF), POST it signed
outside any transaction, record the attempt and decide what follows (delivered; tried
again by the schedule; given up; the endpoint disabled). Run by the worker's
`integrations.deliver_webhook` job, one at a time per message (the job's lock).

A delivered message is never sent again by a rerun; the one window left is a crash after
the endpoint answered and before the answer was recorded: the rerun sends it again with
the same `webhook-id`, which receivers use to drop the duplicate (at least once, never
lost)."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.db import jobs
from booklnk.db.database import Database
from booklnk.integrations import notices, repository, schedule, signing, targets
from booklnk.integrations.events import DELIVER, delivery_job
from booklnk.integrations.models import WebhookStatus
from booklnk.integrations.targets import TargetPolicy

log = structlog.get_logger(__name__)

Outcome = Literal["delivered", "retrying", "failed", "disabled", "already", "early"]
EXCERPT_CHARS = 1000
EXCERPT_BYTES = 4 * EXCERPT_CHARS  # enough for 1000 characters of UTF-8
TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True, slots=True)
class _Claimed:
    number: int
    endpoint_id: uuid.UUID
    url: str
    secret: str
    body: str


@dataclass(frozen=True, slots=True)
class _Answer:
    status_code: int | None
    excerpt: str | None
    duration_ms: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def deliver(
    db: Database,
    client: httpx.AsyncClient,
    business_id: uuid.UUID,
    message_id: uuid.UUID,
    *,
    now: datetime,
    policy: TargetPolicy,
) -> Outcome:
    async with db.transaction(tenant_id=business_id) as session:
        message = await repository.lock_message(session, business_id, message_id)
        if message is None or message.status is not WebhookStatus.PENDING:
            return "already"
        if message.next_attempt_at is not None and message.next_attempt_at > now:
            return "early"  # its own job (or the sweep) comes at its time
        endpoint = await repository.get_endpoint(session, business_id, message.endpoint_id)
        if endpoint is None or not endpoint.enabled:
            repository.give_up(message)
            return "failed"
        claimed = _Claimed(
            repository.claim(message), endpoint.id, endpoint.url, endpoint.secret, message.body
        )
    answer = await _post(client, claimed, message_id, now=now, policy=policy)
    return await _record(db, business_id, message_id, claimed, answer, now=now)


async def _post(
    client: httpx.AsyncClient,
    claimed: _Claimed,
    message_id: uuid.UUID,
    *,
    now: datetime,
    policy: TargetPolicy,
) -> _Answer:
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        # DNS may have changed since registration: checked again, and the checked address used.
        address = await targets.check_target(claimed.url, policy)
    except targets.Refused as exc:
        return _Answer(None, None, took(), f"refused: {exc.rule}")
    headers = signing.headers(claimed.secret, message_id, now, claimed.body)
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS):  # the whole exchange, however slow the drip
            status_code, excerpt = await exchange(client, claimed.url, claimed.body, headers, address)
    except TimeoutError:
        return _Answer(None, None, took(), f"timed out after {TIMEOUT_SECONDS:g} s")
    except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as exc:
        # (Any failure of the exchange is the attempt's: logged, then the schedule goes on.)
        return _Answer(None, None, took(), f"{type(exc).__name__}: {exc}"[:300])
    return _Answer(status_code, excerpt, took(), None)


async def exchange(
    client: httpx.AsyncClient,
    url: str,
    body: str,
    headers: dict[str, str],
    address: targets.IpAddress | None = None,
) -> tuple[int, str | None]:
    """POST the body; the answer's status and the start of its body (read no further: an
    endpoint cannot make the worker hold a large answer). With `address`, the connection
    goes to it (the one checked), with the URL's host in `Host` and in TLS's SNI (so the
    certificate is verified for it), on a connection of its own (closed after)."""
    target = httpx.URL(url)
    extensions: dict[str, object] = {}
    if address is not None:
        headers = {**headers, "host": target.netloc.decode("ascii"), "connection": "close"}
        extensions["sni_hostname"] = target.host
        target = target.copy_with(host=str(address))
    request = client.build_request(
        "POST",
        target,
        content=body.encode(),
        headers=headers,
        timeout=TIMEOUT_SECONDS,
        extensions=extensions,
    )
    response = await client.send(request, stream=True, follow_redirects=False)
    try:
        read = bytearray()
        async for chunk in response.aiter_bytes():
            read += chunk
            if len(read) >= EXCERPT_BYTES:
                break
    finally:
        await response.aclose()
    excerpt = bytes(read[:EXCERPT_BYTES]).decode("utf-8", errors="replace")[:EXCERPT_CHARS]
    return response.status_code, excerpt or None


async def _record(
    db: Database,
    business_id: uuid.UUID,
    message_id: uuid.UUID,
    claimed: _Claimed,
    answer: _Answer,
    *,
    now: datetime,
) -> Outcome:
    async with db.transaction(tenant_id=business_id) as session:
        # The endpoint first, then its message: the order a deletion takes them in.
        endpoint = await repository.get_endpoint(session, business_id, claimed.endpoint_id, lock=True)
        message = await repository.lock_message(session, business_id, message_id)
        if endpoint is None or message is None:
            return "already"  # the endpoint was deleted meanwhile, its messages with it
        await repository.add_attempt(
            session,
            business_id,
            message_id,
            claimed.number,
            at=now,
            status_code=answer.status_code,
            response_excerpt=answer.excerpt,
            duration_ms=answer.duration_ms,
            error=answer.error,
        )
        if answer.ok:
            repository.delivered(message, endpoint, now)
            return "delivered"
        failures = repository.failed_attempt(message, endpoint, now)
        if schedule.should_disable(endpoint.failing_since, now, status_code=answer.status_code):
            reason = schedule.disable_reason(endpoint.failing_since, status_code=answer.status_code)
            repository.disable(endpoint, reason, now)
            await repository.fail_pending_of(session, business_id, endpoint.id)
            repository.give_up(message)
            await notices.tell_owners(session, endpoint, gone=answer.status_code == schedule.GONE, now=now)
            log.warning("webhook_endpoint_disabled", endpoint_id=str(endpoint.id), reason=reason)
            return "disabled"
        at = schedule.next_attempt_at(failures, now)
        repository.retry_at(message, at)
        if at is None:
            return "failed"
        await jobs.enqueue(session, delivery_job(business_id, message_id, at))
        return "retrying"


async def requeue_due(session: AsyncSession, business_id: uuid.UUID, *, now: datetime) -> int:
    """A job for each pending message of the business that is due and has none (its
    worker died, or its job ran before its time): how many were queued."""
    due = await repository.orphaned(session, business_id, due=now, task=DELIVER)
    await jobs.enqueue_many(session, [delivery_job(business_id, message_id) for message_id in due])
    return len(due)
