"""Money taken or given back at the venue (cash, the card terminal), recorded by staff as
ledger entries that name who recorded them. A payment never exceeds what is still due
and a desk refund never exceeds what the desk took; both decisions are made with the
booking row locked, so two tills cannot overshoot together. Money at the desk that
covers a held booking's deposit confirms it, as a verified online payment would."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.audit import log as audit_log
from booklnk.booking import repository as bookings
from booklnk.booking import service as booking_service
from booklnk.booking import transitions
from booklnk.booking.errors import ConcurrentUpdate
from booklnk.booking.lifecycle import Action
from booklnk.booking.models import Booking, BookingStatus
from booklnk.kernel.errors import ValidationFailed
from booklnk.payments import ledger
from booklnk.payments.errors import BookingNotPayable
from booklnk.payments.models import DeskMethod, LedgerChannel, LedgerEntry, LedgerKind
from booklnk.tenancy.context import BusinessContext
from booklnk.tenancy.errors import InsufficientRole


async def record(
    session: AsyncSession,
    ctx: BusinessContext,
    booking_id: uuid.UUID,
    *,
    kind: LedgerKind,
    amount_minor: int,
    method: DeskMethod,
    now: datetime,
) -> tuple[LedgerEntry, Booking]:
    """Record money taken (`capture`) or given back (`refund`) at the desk for a booking."""
    if not ctx.is_staff:
        raise InsufficientRole("Only the business's staff record money taken at the desk.")
    visible = await booking_service.get_booking(session, ctx, booking_id)
    booking = await bookings.get_booking(session, ctx.business_id, visible.id, for_update=True)
    assert booking is not None
    found = (await ledger.totals(session, ctx.business_id, [booking.id])).get(booking.id, ledger.Totals())
    if kind is LedgerKind.CAPTURE:
        _check_payment(booking, found, amount_minor)
    elif amount_minor > found.desk_paid_minor:
        raise ValidationFailed.on(
            "body.amount_minor",
            "exceeds_desk_paid",
            f"At most {found.desk_paid_minor} was taken at the desk and not given back.",
        )
    entry = LedgerEntry(
        business_id=ctx.business_id,
        id=uuid.uuid4(),
        booking_id=booking.id,
        attempt_id=None,
        channel=LedgerChannel.DESK,
        desk_method=method,
        recorded_by=ctx.actor.user_id,
        kind=kind,
        amount_minor=amount_minor,
        currency=booking.currency,
        source=f"desk:{uuid.uuid4()}",
    )
    session.add(entry)
    await session.flush()
    action = "desk.payment" if kind is LedgerKind.CAPTURE else "desk.refund"
    details = {"amount_minor": amount_minor, "currency": booking.currency, "method": method}
    await audit_log.record(
        session,
        ctx.business_id,
        ctx.actor.user_id,
        action,
        subject=("ledger_entry", entry.id),
        details=details,
        booking_id=booking.id,
        at=now,
    )
    covered = found.paid_minor + amount_minor >= booking.deposit_minor
    confirms = kind is LedgerKind.CAPTURE and booking.status is BookingStatus.HELD and covered
    audit = transitions.audit_of(ctx, now)
    if confirms and not await transitions.transition(session, booking, Action.CONFIRM, audit):
        raise ConcurrentUpdate("The booking changed meanwhile; read it again and retry.")
    return entry, booking


def _check_payment(booking: Booking, found: ledger.Totals, amount_minor: int) -> None:
    if booking.status in (BookingStatus.CANCELLED, BookingStatus.EXPIRED):
        raise BookingNotPayable(f"A {booking.status.value} booking takes no payment.")
    due = booking.price_minor - found.paid_minor
    if amount_minor > due:
        raise ValidationFailed.on(
            "body.amount_minor", "exceeds_balance_due", f"At most {max(due, 0)} is still due on this booking."
        )
