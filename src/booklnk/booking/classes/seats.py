"""A class session's seats: taken by compare-and-swap on the session's version, given
back by an atomic decrement that queues the waitlist's promotion in the same transaction.
(The SQL is `classes.repository`'s; the CHECK on `seats_taken` backs both.)"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking.classes import repository
from booklnk.booking.classes.models import ClassSession
from booklnk.db.jobs import Job, enqueue

PROMOTE_WAITLIST = "classes.promote_waitlist"


async def read(session: AsyncSession, business_id: uuid.UUID, session_id: uuid.UUID) -> ClassSession | None:
    return await repository.get_session(session, business_id, session_id)


async def take(session: AsyncSession, seen: ClassSession) -> bool:
    """One more seat taken, if the session is still at the version `seen` was read at."""
    return await repository.take_seat(session, seen)


async def release(
    session: AsyncSession,
    business_id: uuid.UUID,
    session_id: uuid.UUID,
    seats: int = 1,
    *,
    promote: bool = True,
) -> None:
    """Give seats back; the worker then offers them to the waitlist (`promote`; not when
    the session itself was cancelled: its line is closed)."""
    await repository.release_seats(session, business_id, session_id, seats)
    if promote:
        await promote_later(session, business_id, session_id)


async def promote_later(session: AsyncSession, business_id: uuid.UUID, session_id: uuid.UUID) -> None:
    """Enqueue the waitlist promotion; the lock runs one promotion per session at a time."""
    await enqueue(
        session,
        Job(
            PROMOTE_WAITLIST,
            {"business_id": str(business_id), "session_id": str(session_id)},
            lock=f"class_session:{session_id}",
        ),
    )
