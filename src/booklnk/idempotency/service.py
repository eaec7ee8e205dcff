"""Claim a key in the request's own transaction, record the response in that same
transaction, and let a rollback free the key.

A keyed request needs one connection only: the key is held by a transaction-scoped
advisory lock on its scope (taken without waiting, so a concurrent request with the same
key answers 409 at once) and its record is written by the transaction that does the work.
Both end with that transaction: a commit stores the response for replays, a rollback (the
work failed) leaves no trace, so the key may be used again.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.idempotency.models import IdempotencyRecord
from booklnk.kernel.errors import Conflict, ValidationFailed

RETENTION = timedelta(hours=24)
FIELD = "header.Idempotency-Key"


class KeyInFlight(Conflict):
    code = "idempotency_key_in_flight"


@dataclass(frozen=True, slots=True)
class Scope:
    business_id: uuid.UUID
    user_id: uuid.UUID
    key: str

    @property
    def lock_name(self) -> str:
        return f"idempotency:{self.business_id}:{self.user_id}:{self.key}"


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: dict[str, Any]


def fingerprint(method: str, path: str, payload: Any) -> str:
    """A stable digest of the request (method, path with its parameters, body with keys
    sorted), to tell a retry from another request made with the same key."""
    request = {"method": method.upper(), "path": path, "body": payload}
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


async def claim(session: AsyncSession, scope: Scope, digest: str, *, now: datetime) -> StoredResponse | None:
    """None: go ahead (the key is held until this transaction ends). A response: replay
    it. 409 while another transaction holds the key, 422 when it came with another request."""
    # 64-bit hash of the scope: a collision could only answer a spurious 409, never replay.
    held = await session.scalar(
        select(func.pg_try_advisory_xact_lock(func.hashtextextended(scope.lock_name, 0)))
    )
    if not held:
        raise KeyInFlight("A request with this Idempotency-Key is still being processed; retry shortly.")
    found = await _find(session, scope)
    if found is None or found.created_at <= now - RETENTION:
        return None  # new, expired (a new request), or left unanswered by an older release
    if found.fingerprint != digest:
        raise ValidationFailed.on(FIELD, "key_reused", "This key was used with a different request.")
    return StoredResponse(found.status_code, found.response_body)


async def _find(session: AsyncSession, scope: Scope) -> IdempotencyRecord | None:
    stmt = (
        select(IdempotencyRecord)
        .where(
            IdempotencyRecord.business_id == scope.business_id,
            IdempotencyRecord.user_id == scope.user_id,
            IdempotencyRecord.key == scope.key,
        )
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def record(
    session: AsyncSession, scope: Scope, digest: str, response: StoredResponse, *, now: datetime
) -> None:
    """Store the response in the transaction that did the work (after `claim`): both
    commit, or neither. An expired record of the key is replaced."""
    values = {
        "fingerprint": digest,
        "created_at": now,
        "status_code": response.status_code,
        "response_body": response.body,
    }
    await session.execute(
        insert(IdempotencyRecord)
        .values(business_id=scope.business_id, user_id=scope.user_id, key=scope.key, **values)
        .on_conflict_do_update(index_elements=["business_id", "user_id", "key"], set_=values)
    )


async def prune_expired(session: AsyncSession, business_id: uuid.UUID, *, now: datetime) -> int:
    """Delete the business's records past the replay window; returns how many went.
    (Row-level security: the transaction must be narrowed to `business_id`.)"""
    result = await session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.business_id == business_id,
            IdempotencyRecord.created_at <= now - RETENTION,
        )
    )
    return result.rowcount or 0  # type: ignore[attr-defined]
