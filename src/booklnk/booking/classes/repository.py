"""All SQL that writes class mode's rows: series, sessions (their seat counters included)
and waitlist entries. The one writer of `class_series`, `class_session` and
`waitlist_entry`; a session's instructor and rooms are allocations, written by
`booking.repository`.

A seat is taken by compare-and-swap on the session's version read, because the reader
decided "there is a free seat" from that read. Giving seats back is an atomic decrement
(no decision hangs on a read), which still bumps the version so concurrent takers
re-read. The table's CHECK (0 <= seats_taken <= capacity) backs both.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking import versioned
from booklnk.booking.classes.models import (
    ClassSeries,
    ClassSession,
    SessionStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from booklnk.db.pagination import fetch_page, fetch_rows_page

# --- series ---------------------------------------------------------------------------


async def add_series(session: AsyncSession, series: ClassSeries) -> None:
    session.add(series)
    await session.flush()


async def get_series(
    session: AsyncSession, business_id: uuid.UUID, series_id: uuid.UUID
) -> ClassSeries | None:
    return await session.get(ClassSeries, (business_id, series_id), populate_existing=True)


async def open_series(
    session: AsyncSession, business_id: uuid.UUID, *, limit: int | None = None
) -> list[ClassSeries]:
    """The business's series still running, by first date and time (at most `limit`)."""
    stmt = (
        select(ClassSeries)
        .where(ClassSeries.business_id == business_id, ClassSeries.status == SessionStatus.SCHEDULED)
        .order_by(ClassSeries.starts_on, ClassSeries.start_time, ClassSeries.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def businesses_waited_in(
    session: AsyncSession, customer_id: uuid.UUID, *, limit: int
) -> list[uuid.UUID]:
    """The businesses where the customer waits in a line now. Read outside any tenant: a
    customer's own entries are theirs to read everywhere (policy waitlist_entry_own_read)."""
    stmt = (
        select(WaitlistEntry.business_id)
        .where(WaitlistEntry.customer_id == customer_id, WaitlistEntry.status == WaitlistStatus.WAITING)
        .distinct()
        .order_by(WaitlistEntry.business_id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def materialized(session: AsyncSession, series: ClassSeries, until: date) -> None:
    """The series' occurrences are stored up to `until` (the daily job's progress)."""
    await session.execute(
        update(ClassSeries)
        .where(ClassSeries.business_id == series.business_id, ClassSeries.id == series.id)
        .values(materialized_until=until)
        .execution_options(synchronize_session=False)
    )


async def swap_series(
    session: AsyncSession, series: ClassSeries, values: dict[str, Any]
) -> ClassSeries | None:
    """Write the series if it is still at the version it was read at (None: it changed)."""
    stmt = (
        versioned.swap(ClassSeries, series, values)
        .returning(ClassSeries)
        .execution_options(populate_existing=True)
    )
    swapped: ClassSeries | None = (await session.execute(stmt)).scalar_one_or_none()
    return swapped


# --- sessions -------------------------------------------------------------------------


async def add_sessions(session: AsyncSession, rows: Sequence[ClassSession]) -> None:
    session.add_all(rows)
    await session.flush()


async def get_session(
    session: AsyncSession, business_id: uuid.UUID, session_id: uuid.UUID
) -> ClassSession | None:
    """The session as the database holds it now (not a stale copy from this unit of work)."""
    stmt = (
        select(ClassSession)
        .where(ClassSession.business_id == business_id, ClassSession.id == session_id)
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def swap_session(session: AsyncSession, current: ClassSession, values: dict[str, Any]) -> bool:
    """Write the session if it is still at the version it was read at."""
    return await versioned.compare_and_swap(session, ClassSession, current, values) is not None


async def take_seat(session: AsyncSession, seen: ClassSession) -> bool:
    """One more seat taken, if the session is still at the version `seen` was read at."""
    taken = {"seats_taken": ClassSession.seats_taken + 1}
    return await versioned.compare_and_swap(session, ClassSession, seen, taken) is not None


async def release_seats(
    session: AsyncSession, business_id: uuid.UUID, session_id: uuid.UUID, seats: int
) -> None:
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


async def future_sessions(
    session: AsyncSession, series: ClassSeries, now: datetime, *, attached_only: bool
) -> list[ClassSession]:
    """The series' scheduled sessions that have not started (those not edited alone)."""
    stmt = (
        select(ClassSession)
        .where(
            ClassSession.business_id == series.business_id,
            ClassSession.series_id == series.id,
            ClassSession.status == SessionStatus.SCHEDULED,
            ClassSession.starts_at > now,
        )
        .order_by(ClassSession.starts_at)
        .execution_options(populate_existing=True)
    )
    if attached_only:
        stmt = stmt.where(ClassSession.detached.is_(False))
    return list((await session.execute(stmt)).scalars())


def sessions_in(
    business_id: uuid.UUID,
    start: datetime,
    end: datetime,
    service_id: uuid.UUID | None,
    include_cancelled: bool,
) -> Select[ClassSession, int]:
    """Sessions starting in [start, end), each with its number of people waiting."""
    waiting = (
        select(func.count())
        .where(
            WaitlistEntry.business_id == ClassSession.business_id,
            WaitlistEntry.session_id == ClassSession.id,
            WaitlistEntry.status == WaitlistStatus.WAITING,
        )
        .scalar_subquery()
    )
    stmt = select(ClassSession, waiting).where(
        ClassSession.business_id == business_id,
        ClassSession.starts_at >= start,
        ClassSession.starts_at < end,
    )
    if service_id is not None:
        stmt = stmt.where(ClassSession.service_id == service_id)
    if not include_cancelled:
        stmt = stmt.where(ClassSession.status == SessionStatus.SCHEDULED)
    return stmt


async def list_sessions(
    session: AsyncSession, stmt: Select[ClassSession, int], *, cursor: str | None, limit: int | None
) -> tuple[list[tuple[ClassSession, int]], str | None]:
    """`sessions_in`'s rows by start: one page, or all of them when `limit` is None."""
    order = [ClassSession.starts_at, ClassSession.id]
    if limit is None:
        rows = list((await session.execute(stmt.order_by(*order))).all())
        return [(row, count) for row, count in rows], None
    page, next_cursor = await fetch_rows_page(session, stmt, order_by=order, cursor=cursor, limit=limit)
    return [(row, count) for row, count in page], next_cursor


# --- waitlists ------------------------------------------------------------------------


async def waiting_count(session: AsyncSession, business_id: uuid.UUID, session_id: uuid.UUID) -> int:
    stmt = select(func.count()).where(
        WaitlistEntry.business_id == business_id,
        WaitlistEntry.session_id == session_id,
        WaitlistEntry.status == WaitlistStatus.WAITING,
    )
    return int((await session.execute(stmt)).scalar_one())


async def add_entry(session: AsyncSession, entry: WaitlistEntry) -> None:
    """Write a waiting entry (run in a savepoint: one waiting entry per customer)."""
    async with session.begin_nested():
        session.add(entry)
        await session.flush()


async def waitlist(
    session: AsyncSession, business_id: uuid.UUID, session_id: uuid.UUID, *, cursor: str | None, limit: int
) -> tuple[list[WaitlistEntry], str | None]:
    stmt = select(WaitlistEntry).where(
        WaitlistEntry.business_id == business_id, WaitlistEntry.session_id == session_id
    )
    order = [WaitlistEntry.position, WaitlistEntry.id]
    return await fetch_page(session, stmt, order_by=order, cursor=cursor, limit=limit)


async def get_entry(
    session: AsyncSession, business_id: uuid.UUID, entry_id: uuid.UUID
) -> WaitlistEntry | None:
    return await session.get(WaitlistEntry, (business_id, entry_id))


async def leave(session: AsyncSession, business_id: uuid.UUID, entry_id: uuid.UUID) -> bool:
    """Take a waiting entry out of the line; False if it was promoted or closed meanwhile."""
    result = await session.execute(
        update(WaitlistEntry)
        .where(
            WaitlistEntry.business_id == business_id,
            WaitlistEntry.id == entry_id,
            WaitlistEntry.status == WaitlistStatus.WAITING,
        )
        .values(status=WaitlistStatus.LEFT)
        .returning(WaitlistEntry.id)
    )
    return result.scalar_one_or_none() is not None


async def first_in_line(
    session: AsyncSession, business_id: uuid.UUID, session_id: uuid.UUID
) -> WaitlistEntry | None:
    """The first waiting entry, locked (one promotion per session at a time anyway)."""
    stmt = (
        select(WaitlistEntry)
        .where(
            WaitlistEntry.business_id == business_id,
            WaitlistEntry.session_id == session_id,
            WaitlistEntry.status == WaitlistStatus.WAITING,
        )
        .order_by(WaitlistEntry.position)
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def mark_promoted(session: AsyncSession, entry: WaitlistEntry, booking_id: uuid.UUID) -> None:
    entry.status = WaitlistStatus.PROMOTED
    entry.booking_id = booking_id
    await session.flush()


async def close_lines(
    session: AsyncSession, business_id: uuid.UUID, session_ids: Sequence[uuid.UUID]
) -> None:
    """The sessions started or were cancelled: nobody waits for them any more."""
    await session.execute(
        update(WaitlistEntry)
        .where(
            WaitlistEntry.business_id == business_id,
            WaitlistEntry.session_id.in_(list(session_ids)),
            WaitlistEntry.status == WaitlistStatus.WAITING,
        )
        .values(status=WaitlistStatus.CLOSED)
    )
