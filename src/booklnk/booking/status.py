"""A booking's status changes by compare-and-swap on its version; the time (or the class
seat) of a booking that stops blocking is freed in the same transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from booklnk.booking import repository
from booklnk.booking.classes import seats
from booklnk.booking.lifecycle import BLOCKING
from booklnk.booking.models import Booking, BookingStatus

MAX_CAS_TRIES = 3  # a lost compare-and-swap re-reads and tries again, this many times in all


async def swap_status(session: AsyncSession, booking: Booking, status: BookingStatus) -> bool:
    """Move `booking` to `status` if it is still at the version it was read at (False when
    someone changed it first); a status that stops blocking frees its time or seat."""
    new_version = await repository.compare_and_swap(session, booking, status=status)
    if new_version is None:
        return False
    if status not in BLOCKING:
        if booking.session_id is not None:
            await seats.release(session, booking.business_id, booking.session_id)
        else:
            await repository.deactivate_allocations(session, booking.business_id, booking.id)
    # Record what the database now holds without marking the object dirty again.
    set_committed_value(booking, "status", status)
    set_committed_value(booking, "version", new_version)
    return True
