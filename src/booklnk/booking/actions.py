"""What staff and customers do to a booking: confirm, cancel (the policy decides what
goes back), check in, complete, no-show, and undo a check-in or a no-show. Each follows
the state graph and, for staff, the clock (`lifecycle`); each is a compare-and-swap on
the booking's version, recorded with who did it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking import repository, transitions
from booklnk.booking.cancellation import CancellationDecision, decide
from booklnk.booking.errors import ConcurrentUpdate, PaymentRequired
from booklnk.booking.lifecycle import STAFF_ACTIONS, UNDONE_BY, Action, StaffClock, next_status
from booklnk.booking.models import Booking, BookingStatus
from booklnk.booking.service import BookingView, check_version, get_booking, view
from booklnk.booking.transitions import MAX_CAS_TRIES
from booklnk.kernel.errors import Conflict
from booklnk.tenancy.context import BusinessContext
from booklnk.tenancy.errors import InsufficientRole


class NothingToUndo(Conflict):
    code = "nothing_to_undo"


async def change_status(
    session: AsyncSession,
    ctx: BusinessContext,
    booking_id: uuid.UUID,
    action: Action,
    *,
    expected_version: int | None,
    now: datetime,
) -> tuple[BookingView, CancellationDecision | None]:
    """Move a booking along its graph by compare-and-swap on `version`.

    With `expected_version` (HTTP If-Match) a stale version answers 412 at once; without,
    a lost race re-reads and retries a bounded number of times, then answers 409."""
    if action in STAFF_ACTIONS and not ctx.is_staff:
        raise InsufficientRole(f"Only the business can {action.value.replace('_', ' ')} a booking.")
    for _ in range(MAX_CAS_TRIES):
        booking = await get_booking(session, ctx, booking_id)
        check_version(booking, expected_version)
        next_status(booking.status, action)  # 409 at once for a move the graph does not have
        await _check_due(session, ctx, booking, action, now)
        decision = None
        if action is Action.CANCEL:
            decision = decide(booking, ctx.rules, now, by_business=ctx.is_staff)
        if await transitions.transition(session, booking, action, transitions.audit_of(ctx, now)):
            return await view(session, booking), decision
        session.expunge(booking)  # re-read the winner's version
    raise ConcurrentUpdate("The booking kept changing; read it again and retry.")


async def _check_due(
    session: AsyncSession, ctx: BusinessContext, booking: Booking, action: Action, now: datetime
) -> None:
    """The action's own conditions: a booking that needs payment is confirmed by it, never
    by hand; staff actions follow the clock; an undo takes back the latest change only."""
    if action is Action.CONFIRM and booking.status is BookingStatus.HELD and booking.deposit_minor > 0:
        raise PaymentRequired("This booking is confirmed by its payment; start a checkout for it.")
    undone_at = None
    if action in UNDONE_BY:
        last = await repository.last_change(session, booking.business_id, booking.id)
        if last is None or last.action != UNDONE_BY[action].value or last.to_status is not booking.status:
            raise NothingToUndo(
                f"The booking's latest change is not a {UNDONE_BY[action].value.replace('_', '-')}."
            )
        undone_at = last.changed_at
    if action in STAFF_ACTIONS:
        StaffClock.of(ctx.rules).check(
            action, starts_at=booking.starts_at, ends_at=booking.ends_at, now=now, undone_at=undone_at
        )
