"""The seat counter of a class session: every change bumps `version`.

Taking a seat is a compare-and-swap on the version read, because the reader decided
"there is a free seat" from that read. Giving one back is an atomic decrement (no
decision hangs on a read), which still bumps the version so concurrent takers re-read.
The table's CHECK (0 <= seats_taken <= capacity) backs both.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking.classes.models import ClassSession, WaitlistEntry, WaitlistStatus
from booklnk.db.jobs import Job, enqueue

PROMOTE_WAITLIST = "classes.promote_waitlist"


async def read(session: AsyncSession, business_id: uuid.UUID, session_id: uuid.UUID) -> ClassSession | None:
    """The session as the database holds it now (not a stale copy from this unit of work)."""
    stmt = (
        select(ClassSession)
        .where(ClassSession.business_id == business_id, ClassSession.id == session_id)
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def take(session: AsyncSession, seen: ClassSession) -> bool:
    """One more seat taken, if the session is still at the version `seen` was read at."""
    result = await session.execute(
        update(ClassSession)
        .where(
            ClassSession.business_id == seen.business_id,
            ClassSession.id == seen.id,
            ClassSession.version == seen.version,
        )
        .values(seats_taken=ClassSession.seats_taken + 1, version=ClassSession.version + 1)
        .returning(ClassSession.version)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none() is not None


async def release(
    session: AsyncSession, business_id: uuid.UUID, session_id: uuid.UUID, seats: int = 1
) -> None:
    """Give seats back, and have the worker offer them to the waitlist (same transaction)."""
    await session.execute(
        update(ClassSession)
        .where(ClassSession.business_id == business_id, ClassSession.id == session_id)
        .values(
            seats_taken=ClassSession.seats_taken - seats,
            version=ClassSession.version + 1,
            updated_at=func.now(),
        )
        .execution_options(synchronize_session=False)
    )
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


async def waiting_count(session: AsyncSession, business_id: uuid.UUID, session_id: uuid.UUID) -> int:
    stmt = select(func.count()).where(
        WaitlistEntry.business_id == business_id,
        WaitlistEntry.session_id == session_id,
        WaitlistEntry.status == WaitlistStatus.WAITING,
    )
    return int((await session.execute(stmt)).scalar_one())
