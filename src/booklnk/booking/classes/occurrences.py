"""Writing stored class sessions: versioned updates, their bookings moved along, and
cancellation in bulk (bookings cancelled, seats given back, lines closed)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking.classes.errors import InstructorBusy, SessionClosed
from booklnk.booking.classes.models import ClassSession, SessionStatus, WaitlistEntry, WaitlistStatus
from booklnk.booking.errors import ConcurrentUpdate, VersionMismatch
from booklnk.booking.models import Booking, BookingStatus
from booklnk.db.errors import violated_constraint
from booklnk.kernel.errors import ValidationFailed
from booklnk.scheduling.intervals import Interval


async def swap(session: AsyncSession, current: ClassSession, values: dict[str, object]) -> bool:
    """Write the session if it is still at the version it was read at; an instructor
    overlap answers 409 (the exclusion constraint)."""
    try:
        async with session.begin_nested():
            result = await session.execute(
                update(ClassSession)
                .where(
                    ClassSession.business_id == current.business_id,
                    ClassSession.id == current.id,
                    ClassSession.version == current.version,
                )
                .values(**values, version=ClassSession.version + 1, updated_at=func.now())
                .returning(ClassSession.version)
                .execution_options(synchronize_session=False)
            )
            return result.scalar_one_or_none() is not None
    except IntegrityError as exc:
        if violated_constraint(exc) == "ex_class_session_instructor":
            raise InstructorBusy("The instructor already teaches a session at an overlapping time.") from None
        raise


def check_not_started(current: ClassSession, now: datetime) -> None:
    """Only a scheduled session that has not started may change."""
    if current.status is not SessionStatus.SCHEDULED or current.starts_at <= now:
        raise SessionClosed("The session was cancelled or has started.")


def check_expected(current: ClassSession, expected_version: int | None) -> None:
    if expected_version is not None and current.version != expected_version:
        raise VersionMismatch(f"The session is at version {current.version}, not {expected_version}.")


def check_capacity(current: ClassSession, capacity: int, field: str) -> None:
    if capacity < current.seats_taken:
        raise ValidationFailed.on(
            field,
            "capacity_below_seats_taken",
            f"{current.seats_taken} seats are taken on {current.starts_at.isoformat()}; "
            "cancel bookings first or choose a larger capacity.",
        )


def stale() -> ConcurrentUpdate:
    """The answer when a session changed between our read and our write."""
    return ConcurrentUpdate("The session changed meanwhile; read it again and retry.")


async def cancel_all(session: AsyncSession, sessions: Sequence[ClassSession]) -> list[uuid.UUID]:
    """Cancel the sessions, their active bookings and their lines; returns the bookings."""
    for current in sessions:
        if not await swap(session, current, {"status": SessionStatus.CANCELLED}):
            raise stale()
    ids = [s.id for s in sessions]
    if not ids:
        return []
    business_id = sessions[0].business_id
    cancelled = await session.execute(
        update(Booking)
        .where(
            Booking.business_id == business_id,
            Booking.session_id.in_(ids),
            Booking.status.in_([BookingStatus.HELD, BookingStatus.CONFIRMED]),
        )
        .values(status=BookingStatus.CANCELLED, version=Booking.version + 1, updated_at=func.now())
        .returning(Booking.id, Booking.session_id)
    )
    booking_ids: list[uuid.UUID] = []
    freed: dict[uuid.UUID, int] = {}
    for booking_id, freed_session in cancelled:
        booking_ids.append(booking_id)
        if freed_session is not None:
            freed[freed_session] = freed.get(freed_session, 0) + 1
    for freed_session, count in freed.items():
        await session.execute(
            update(ClassSession)
            .where(ClassSession.business_id == business_id, ClassSession.id == freed_session)
            .values(seats_taken=ClassSession.seats_taken - count, version=ClassSession.version + 1)
        )
    await session.execute(
        update(WaitlistEntry)
        .where(
            WaitlistEntry.business_id == business_id,
            WaitlistEntry.session_id.in_(ids),
            WaitlistEntry.status == WaitlistStatus.WAITING,
        )
        .values(status=WaitlistStatus.CLOSED)
    )
    return booking_ids


async def move_bookings(session: AsyncSession, moved: ClassSession, span: Interval) -> None:
    """The session's bookings take its new time (each a new version)."""
    await session.execute(
        update(Booking)
        .where(Booking.business_id == moved.business_id, Booking.session_id == moved.id)
        .values(starts_at=span.start, ends_at=span.end, version=Booking.version + 1, updated_at=func.now())
    )
