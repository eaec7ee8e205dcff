"""Every change of a booking's status goes through here: the state graph decides
(`lifecycle.next_status`), the compare-and-swap on `version` and the audit write it
(`repository`), and the time (or class seat) of a booking that stops blocking is freed
in the same transaction."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from booklnk.booking import integrator_events, messages, repository
from booklnk.booking.classes import seats
from booklnk.booking.lifecycle import Action, blocks, next_status, sources
from booklnk.booking.models import Booking
from booklnk.booking.repository import Audit
from booklnk.tenancy.context import BusinessContext
from booklnk.tenancy.system import SYSTEM

MAX_CAS_TRIES = 3  # a lost compare-and-swap re-reads and tries again, this many times in all


def audit_of(ctx: BusinessContext | None, at: datetime) -> Audit:
    """Who acts, for the audit: the signed-in user, or None for the system (a job, a payment)."""
    actor = None if ctx is None or ctx.actor == SYSTEM else ctx.actor.user_id
    return Audit(actor, at)


async def transition(session: AsyncSession, booking: Booking, action: Action, audit: Audit) -> bool:
    """Move `booking` along `action` if it is still at the version it was read at (False
    when someone changed it first); a status that stops blocking frees its time or seat.
    (A status that blocks again, `reconfirm`, has taken its time back before.)"""
    before = booking.status
    after = next_status(before, action)
    new_version = await repository.change_status(session, booking, after, action.value, audit)
    if new_version is None:
        return False
    if blocks(before) and not blocks(after):
        await _free(session, booking.business_id, [booking])
    # Record what the database now holds without marking the object dirty again.
    set_committed_value(booking, "status", after)
    set_committed_value(booking, "version", new_version)
    await _tell(session, booking.business_id, [booking.id], action, audit.at)
    return True


async def transition_many(
    session: AsyncSession,
    business_id: uuid.UUID,
    action: Action,
    audit: Audit,
    *,
    session_ids: Collection[uuid.UUID] = (),
    booking_ids: Collection[uuid.UUID] = (),
    promote: bool = True,
) -> list[uuid.UUID]:
    """Move every booking of these class sessions (or these bookings) that `action` can
    move, by the graph, in one statement; their time and seats are freed. Returns them.
    `promote=False`: their sessions were cancelled, nobody is waiting for those seats."""
    targets = sources(action)
    (after,) = {next_status(status, action) for status in targets}
    if not session_ids and not booking_ids:
        return []
    changed = await repository.change_statuses(
        session,
        business_id,
        session_ids=session_ids,
        booking_ids=booking_ids,
        sources=targets,
        to=after,
        action=action.value,
        audit=audit,
    )
    if not blocks(after):
        await _free_changed(session, business_id, changed, promote=promote)
    moved = [c.booking_id for c in changed]
    await _tell(session, business_id, moved, action, audit.at)
    return moved


# What the customer is told when a booking takes an action (the others go unsaid: a
# check-in, a no-show and their undoing happen with the customer in front of the desk).
_TOLD = {
    Action.CONFIRM: messages.Event.CONFIRMED,
    Action.RECONFIRM: messages.Event.CONFIRMED,
    Action.CANCEL: messages.Event.CANCELLED,
}


async def _tell(
    session: AsyncSession, business_id: uuid.UUID, booking_ids: list[uuid.UUID], action: Action, at: datetime
) -> None:
    event = _TOLD.get(action)
    if event is not None:
        await messages.tell(session, business_id, booking_ids, event, now=at)
    await integrator_events.emit_for_action(session, business_id, booking_ids, action, at)


async def _free(session: AsyncSession, business_id: uuid.UUID, bookings: list[Booking]) -> None:
    changed = [repository.Changed(b.id, b.session_id) for b in bookings]
    await _free_changed(session, business_id, changed, promote=True)


async def _free_changed(
    session: AsyncSession, business_id: uuid.UUID, changed: list[repository.Changed], *, promote: bool
) -> None:
    appointments = [c.booking_id for c in changed if c.session_id is None]
    await repository.set_allocations_active(session, business_id, False, booking_ids=appointments)
    freed = Counter(c.session_id for c in changed if c.session_id is not None)
    for session_id, count in freed.items():
        assert session_id is not None
        await seats.release(session, business_id, session_id, count, promote=promote)
