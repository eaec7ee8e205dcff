"""Reserve a key before acting, record the response in the acting transaction, release
the key when the action failed (a failed attempt may be retried with the same key).

The reservation commits in its own short transaction so that a concurrent request with the
same key sees it at once and answers 409 instead of acting a second time.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.db.database import Database
from booklnk.idempotency.models import IdempotencyRecord
from booklnk.kernel.errors import Conflict, ValidationFailed

RETENTION = timedelta(hours=24)
LOCK = timedelta(seconds=60)  # longer than any request may take


class KeyInFlight(Conflict):
    code = "idempotency_key_in_flight"


@dataclass(frozen=True, slots=True)
class Scope:
    business_id: uuid.UUID
    user_id: uuid.UUID
    key: str


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: dict[str, Any]


def fingerprint(method: str, path: str, payload: Any) -> str:
    """A stable digest of the request (method, path with its parameters, body with keys
    sorted), to tell a retry from another request made with the same key."""
    request = {"method": method.upper(), "path": path, "body": payload}
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


async def reserve(db: Database, scope: Scope, digest: str, *, now: datetime) -> StoredResponse | None:
    """None: go ahead (the key is now held). A response: replay it. Raises 422 when the key
    came with another body, 409 while the first request with it is still running."""
    async with db.transaction(user_id=scope.user_id, tenant_id=scope.business_id) as session:
        inserted = await session.execute(
            insert(IdempotencyRecord)
            .values(
                business_id=scope.business_id,
                user_id=scope.user_id,
                key=scope.key,
                fingerprint=digest,
                created_at=now,
                locked_until=now + LOCK,
            )
            .on_conflict_do_nothing()
            .returning(IdempotencyRecord.key)
        )
        if inserted.scalar_one_or_none() is not None:
            return None
        record = await _locked(session, scope)
        if record.created_at <= now - RETENTION:
            _restart(record, digest, now)  # an old key: a new request
            return None
        if record.fingerprint != digest:
            raise ValidationFailed.on(
                "header.Idempotency-Key", "key_reused", "This key was used with a different request."
            )
        if record.status_code is not None and record.response_body is not None:
            return StoredResponse(record.status_code, record.response_body)
        if record.locked_until > now:
            raise KeyInFlight("A request with this Idempotency-Key is still being processed; retry shortly.")
        _restart(record, digest, now)  # its first request died without answering
        return None


async def _locked(session: AsyncSession, scope: Scope) -> IdempotencyRecord:
    stmt = (
        select(IdempotencyRecord)
        .where(
            IdempotencyRecord.business_id == scope.business_id,
            IdempotencyRecord.user_id == scope.user_id,
            IdempotencyRecord.key == scope.key,
        )
        .with_for_update()
    )
    return (await session.execute(stmt)).scalar_one()


def _restart(record: IdempotencyRecord, digest: str, now: datetime) -> None:
    record.fingerprint, record.created_at, record.locked_until = digest, now, now + LOCK
    record.status_code, record.response_body = None, None


async def record(session: AsyncSession, scope: Scope, response: StoredResponse) -> None:
    """Store the response in the transaction that did the work: both commit, or neither."""
    await session.execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.business_id == scope.business_id,
            IdempotencyRecord.user_id == scope.user_id,
            IdempotencyRecord.key == scope.key,
        )
        .values(status_code=response.status_code, response_body=response.body)
    )


async def release(db: Database, scope: Scope) -> None:
    """Free the key after a failed attempt, unless a response was recorded."""
    async with db.transaction(user_id=scope.user_id, tenant_id=scope.business_id) as session:
        await session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.business_id == scope.business_id,
                IdempotencyRecord.user_id == scope.user_id,
                IdempotencyRecord.key == scope.key,
                IdempotencyRecord.status_code.is_(None),
            )
        )
