"""Holds: their expiry (a job per hold, a sweep behind it), and what a verified payment
does to a held or lapsed booking (confirm, confirm again, or report why it cannot)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from booklnk.booking import occupancy, repository
from booklnk.booking.classes import seats
from booklnk.booking.errors import ConcurrentUpdate
from booklnk.booking.lifecycle import Action
from booklnk.booking.models import Booking, BookingStatus
from booklnk.booking.repository import Audit
from booklnk.booking.transitions import MAX_CAS_TRIES, transition
from booklnk.db.jobs import Job, enqueue

EXPIRE_HOLD = "booking.expire_hold"
SWEEP_BATCH = 500


async def schedule_expiry(session: AsyncSession, booking: Booking) -> None:
    """A held booking gets its expiry job in the transaction that creates it."""
    if booking.status is BookingStatus.HELD and booking.hold_expires_at is not None:
        await enqueue(
            session,
            Job(
                EXPIRE_HOLD,
                {
                    "business_id": str(booking.business_id),
                    "booking_id": str(booking.id),
                    "expires_at": booking.hold_expires_at.isoformat(),
                },
                scheduled_at=booking.hold_expires_at,
            ),
        )


async def expire_hold(
    session: AsyncSession,
    business_id: uuid.UUID,
    booking_id: uuid.UUID,
    *,
    now: datetime,
    scheduled_for: datetime | None = None,
) -> bool:
    """Expire a lapsed hold (its time or seat freed). True if it expired.

    The expiry job passes the expiry it was `scheduled_for`: a hold extended since gets a
    new job at its new expiry; one not lapsed yet by our clock (the job ran early) is
    left to the periodic sweep, so a job never re-enqueues itself in a loop."""
    for _ in range(MAX_CAS_TRIES):
        booking = await repository.get_booking(session, business_id, booking_id)
        if booking is None or booking.status is not BookingStatus.HELD or booking.hold_expires_at is None:
            return False
        if booking.hold_expires_at > now:
            if scheduled_for is not None and booking.hold_expires_at > scheduled_for:
                await schedule_expiry(session, booking)
            return False
        if await transition(session, booking, Action.EXPIRE, Audit(None, now)):
            return True
        session.expunge(booking)
    raise ConcurrentUpdate("The booking kept changing; the job will retry.")


async def sweep_lapsed_holds(session: AsyncSession, business_id: uuid.UUID, *, now: datetime) -> int:
    """The periodic safety net behind the expiry jobs: expire every lapsed hold of one
    business (at most a batch per run). Returns how many expired."""
    expired = 0
    for booking_id in await occupancy.lapsed_holds(session, business_id, now, limit=SWEEP_BATCH):
        expired += await expire_hold(session, business_id, booking_id, now=now)
    return expired


async def sweep_session_holds(
    session: AsyncSession, business_id: uuid.UUID, session_id: uuid.UUID, *, now: datetime
) -> int:
    """Expire the lapsed holds on one class session's seats (a full session's last look)."""
    expired = 0
    lapsed = await occupancy.lapsed_holds(session, business_id, now, limit=SWEEP_BATCH, session_id=session_id)
    for booking_id in lapsed:
        expired += await expire_hold(session, business_id, booking_id, now=now)
    return expired


async def settle_payment(
    session: AsyncSession, business_id: uuid.UUID, booking_id: uuid.UUID, *, now: datetime
) -> str:
    """A verified payment for the booking's hold arrived; returns what became of the booking.

    A held booking is confirmed (even if its hold has just lapsed: its time was never given
    away while the hold stood). An expired one whose time or seat is still free is
    confirmed again ("reconfirmed"); if someone took it meanwhile, "slot_taken": the money
    must go back. Any other status is reported as is, for the caller to decide."""
    audit = Audit(None, now)
    for _ in range(MAX_CAS_TRIES):
        booking = await repository.get_booking(session, business_id, booking_id)
        if booking is None:
            return "booking_missing"
        if booking.status is BookingStatus.HELD:
            if await transition(session, booking, Action.CONFIRM, audit):
                return "confirmed"
        elif booking.status is BookingStatus.EXPIRED:
            if not await _retake(session, booking):
                return "slot_taken"
            if await transition(session, booking, Action.RECONFIRM, audit):
                return "reconfirmed"
        else:
            return f"booking_{booking.status.value}"
        session.expunge(booking)
    raise ConcurrentUpdate("The booking kept changing; the job will retry.")


async def _retake(session: AsyncSession, booking: Booking) -> bool:
    """The expired booking's time (its allocations) or seat, if nobody took it since."""
    if booking.session_id is not None:
        current = await seats.read(session, booking.business_id, booking.session_id)
        return (
            current is not None
            and current.seats_taken < current.capacity
            and await seats.take(session, current)
        )

    async def block_again() -> None:
        await repository.set_allocations_active(session, booking.business_id, True, booking_ids=[booking.id])

    return await repository.placed(session, block_again)


async def extend_hold(
    session: AsyncSession, business_id: uuid.UUID, booking_id: uuid.UUID, until: datetime
) -> bool:
    """Keep a held booking held until `until` (Fawry: the reference was issued, the cash
    comes later); never shortens a hold. True if the hold now lasts until then."""
    for _ in range(MAX_CAS_TRIES):
        booking = await repository.get_booking(session, business_id, booking_id)
        if booking is None or booking.status is not BookingStatus.HELD:
            return False
        if booking.hold_expires_at is not None and booking.hold_expires_at >= until:
            return True
        if await repository.swap(session, booking, hold_expires_at=until) is not None:
            set_committed_value(booking, "hold_expires_at", until)
            await schedule_expiry(session, booking)
            return True
        session.expunge(booking)
    raise ConcurrentUpdate("The booking kept changing; the job will retry.")


async def note_reason(
    session: AsyncSession, business_id: uuid.UUID, booking_id: uuid.UUID, reason: str
) -> None:
    """Say on the booking why it stands as it does (bumps its version: clients re-read)."""
    booking = await repository.get_booking(session, business_id, booking_id)
    if booking is not None:
        await repository.note_reason(session, booking, reason)
