"""Recording what someone did, in the transaction that does it (so a change and its
record commit together or not at all)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.audit.models import AuditEvent

_CLOCK = "booklnk.audit.now"


def note_clock(session: AsyncSession, now: datetime) -> None:
    """The instant the request that opened the session runs at, by the app's clock: its
    events are stamped with it, as its booking status changes are (so the two agree in
    one order, under a test's clock too). Without it, the transaction's time."""
    session.info[_CLOCK] = now


async def record(
    session: AsyncSession,
    business_id: uuid.UUID,
    actor_id: uuid.UUID | None,
    action: str,
    *,
    subject: tuple[str, object | None],
    details: Mapping[str, Any] | None = None,
    booking_id: uuid.UUID | None = None,
    at: datetime | None = None,
) -> None:
    """`subject`: (its type, its id). `details` are stored as JSON (ids and instants as
    strings); `at` defaults to the request's clock (`note_clock`), else the transaction's
    time."""
    kind, subject_id = subject
    values: dict[str, Any] = {
        "business_id": business_id,
        "actor_id": actor_id,
        "action": action,
        "subject_type": kind,
        "subject_id": None if subject_id is None else str(subject_id),
        "booking_id": booking_id,
        "details": to_jsonable_python(dict(details or {})),
    }
    if (at := at or session.info.get(_CLOCK)) is not None:
        values["at"] = at
    await session.execute(insert(AuditEvent).values(**values))


async def count_since(session: AsyncSession, business_id: uuid.UUID, action: str, since: datetime) -> int:
    """How many times `action` was done in the business since `since` (the log keeps what
    deleting a row would forget: an invitation revoked still counts)."""
    stmt = select(func.count()).where(
        AuditEvent.business_id == business_id, AuditEvent.action == action, AuditEvent.at > since
    )
    return int((await session.execute(stmt)).scalar_one())
