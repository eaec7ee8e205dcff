"""A booking as its customer and the front desk see it (its resources and its money),
and the use cases that change one and must say what happened to the money."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking import actions, listing
from booklnk.booking import service as bookings
from booklnk.booking.cancellation import CancellationDecision, decide, free_until
from booklnk.booking.classes import enrolment
from booklnk.booking.lifecycle import Action, next_status
from booklnk.booking.models import Booking
from booklnk.booking.service import BookingView
from booklnk.notifications import repository as notifications
from booklnk.notifications.schemas import AttemptOut, MessageOut
from booklnk.payments import cancellations, desk, ledger, refunds
from booklnk.payments.decisions import refund_share
from booklnk.payments.models import DeskMethod, LedgerEntry, LedgerKind, RefundIntent
from booklnk.tenancy import repository as tenancy
from booklnk.tenancy.context import BusinessContext


@dataclass(frozen=True, slots=True)
class BookingDetail:
    view: BookingView
    money: ledger.Money

    @property
    def booking(self) -> Booking:
        return self.view.booking


@dataclass(frozen=True, slots=True)
class CancellationOutcome:
    """The policy's decision, and the money it sends back: online (refunded through the
    gateway by the worker) and at the desk (for staff to hand back and record)."""

    decision: CancellationDecision
    refund_minor: int | None
    desk_refund_due_minor: int


async def details(
    session: AsyncSession, business_id: uuid.UUID, views: Sequence[BookingView]
) -> list[BookingDetail]:
    """Bookings of one business with their money, in one query for the lot."""
    sums = await ledger.totals(session, business_id, [v.booking.id for v in views])
    return [
        BookingDetail(v, ledger.money_of(v.booking, sums.get(v.booking.id, ledger.Totals()))) for v in views
    ]


async def page_details(session: AsyncSession, page: listing.BookingPage) -> list[BookingDetail]:
    """A page of bookings (of one business, or a customer's across businesses), each with
    its resources and its money."""
    sums = await ledger.totals_across(session, page.bookings)
    return [
        BookingDetail(
            BookingView(b, page.resource_ids.get(b.id, [])),
            ledger.money_of(b, sums.get(b.id, ledger.Totals())),
        )
        for b in page.bookings
    ]


async def time_zones(session: AsyncSession, page: listing.BookingPage) -> dict[uuid.UUID, str]:
    """The time zone of each business a page's bookings belong to (a customer's page spans
    businesses), for their local display times."""
    return await tenancy.time_zones(session, [b.business_id for b in page.bookings])


async def detail(session: AsyncSession, view: BookingView) -> BookingDetail:
    (found,) = await details(session, view.booking.business_id, [view])
    return found


async def create(
    session: AsyncSession, ctx: BusinessContext, new: bookings.NewBooking, *, now: datetime
) -> BookingDetail:
    view = await bookings.create_booking(session, ctx, new, now=now)
    # Nothing can have been paid for a booking that did not exist a moment ago.
    return BookingDetail(view, ledger.money_of(view.booking, ledger.Totals()))


async def take_seat(
    session: AsyncSession,
    ctx: BusinessContext,
    session_id: uuid.UUID,
    request: enrolment.SeatRequest,
    *,
    now: datetime,
) -> BookingDetail:
    booking = await enrolment.book_seat(session, ctx, session_id, request, now=now)
    return BookingDetail(BookingView(booking, []), ledger.money_of(booking, ledger.Totals()))


async def get(session: AsyncSession, ctx: BusinessContext, booking_id: uuid.UUID) -> BookingDetail:
    return await detail(
        session, await bookings.view(session, await bookings.get_booking(session, ctx, booking_id))
    )


async def act(
    session: AsyncSession,
    ctx: BusinessContext,
    booking_id: uuid.UUID,
    action: Action,
    *,
    expected_version: int | None,
    now: datetime,
) -> tuple[BookingDetail, CancellationOutcome | None]:
    """Move a booking along its graph; a cancellation records, in the same transaction,
    the refund its policy owes on what was paid online, and says what the desk owes."""
    view, decision = await actions.change_status(
        session, ctx, booking_id, action, expected_version=expected_version, now=now
    )
    found = await detail(session, view)
    if decision is None:
        return found, None
    online = await cancellations.refund_cancellation(
        session, ctx.business_id, booking_id, by=decision.by, refund_percent=decision.refund_percent
    )
    sums = (await ledger.totals(session, ctx.business_id, [booking_id])).get(booking_id, ledger.Totals())
    desk_due = refund_share(sums.desk_paid_minor, decision.refund_percent)
    return found, CancellationOutcome(decision, online, desk_due)


@dataclass(frozen=True, slots=True)
class CancellationQuote:
    """What cancelling now would give back, said before the customer (or the desk) commits:
    the policy's decision, the share of what was paid online, and what the desk owes."""

    decision: CancellationDecision
    free_until: datetime
    refund_online_minor: int
    desk_refund_due_minor: int
    currency: str


async def cancellation_quote(
    session: AsyncSession, ctx: BusinessContext, booking_id: uuid.UUID, *, now: datetime
) -> CancellationQuote:
    """The outcome `act(CANCEL)` would have now, changing nothing (409 when the booking can
    no longer be cancelled, as the action itself answers; a late cancellation the type
    refuses raises as the action would)."""
    booking = await bookings.get_booking(session, ctx, booking_id)
    next_status(booking.status, Action.CANCEL)
    decision = decide(booking, ctx.rules, now, by_business=ctx.is_staff)
    left = sum(p.left for p in await refunds.refundables(session, ctx.business_id, booking_id))
    sums = (await ledger.totals(session, ctx.business_id, [booking_id])).get(booking_id, ledger.Totals())
    return CancellationQuote(
        decision,
        free_until(booking, ctx.rules),
        refund_share(left, decision.refund_percent),
        refund_share(sums.desk_paid_minor, decision.refund_percent),
        booking.currency,
    )


async def reschedule(
    session: AsyncSession,
    ctx: BusinessContext,
    booking_id: uuid.UUID,
    move: bookings.Move,
    *,
    expected_version: int | None,
    now: datetime,
) -> BookingDetail:
    view = await bookings.reschedule(
        session, ctx, booking_id, move, expected_version=expected_version, now=now
    )
    return await detail(session, view)


async def messages_of(
    session: AsyncSession, ctx: BusinessContext, booking_id: uuid.UUID, *, cursor: str | None, limit: int
) -> tuple[list[MessageOut], str | None]:
    """What the booking's customer was sent (or is to be), with every attempt."""
    await bookings.get_booking(session, ctx, booking_id)  # (404 for a booking not of this business)
    found, attempts, next_cursor = await notifications.booking_messages_page(
        session, ctx.business_id, booking_id, cursor=cursor, limit=limit
    )
    return [
        MessageOut(
            id=m.id,
            channel=m.channel,
            address=m.address,
            template=m.template,
            language=m.locale,
            status=m.status,
            created_at=m.created_at,
            sent_at=m.sent_at,
            delivery_status=m.delivery_status,
            delivery_status_at=m.delivery_status_at,
            attempts=[AttemptOut.model_validate(a) for a in attempts[m.id]],
        )
        for m in found
    ], next_cursor


async def payments_of(session: AsyncSession, ctx: BusinessContext, booking_id: uuid.UUID) -> ledger.Balance:
    """A booking's money in detail, for its customer or the business."""
    return await ledger.balance(session, await bookings.get_booking(session, ctx, booking_id))


async def refund(
    session: AsyncSession, ctx: BusinessContext, booking_id: uuid.UUID, *, amount_minor: int, reason: str
) -> RefundIntent:
    """An owner gives back part or all of what a booking paid online."""
    await bookings.get_booking(session, ctx, booking_id)
    intent = await refunds.request(
        session, ctx.business_id, booking_id, amount_minor=amount_minor, reason=reason, by=ctx.actor.user_id
    )
    assert intent is not None  # an explicit amount raises instead of finding nothing
    return intent


async def record_at_desk(
    session: AsyncSession,
    ctx: BusinessContext,
    booking_id: uuid.UUID,
    *,
    kind: LedgerKind,
    amount_minor: int,
    method: DeskMethod,
    now: datetime,
) -> tuple[LedgerEntry, BookingDetail]:
    """Money taken or handed back at the desk, and the booking as it stands after it."""
    entry, booking = await desk.record(
        session, ctx, booking_id, kind=kind, amount_minor=amount_minor, method=method, now=now
    )
    return entry, await detail(session, await bookings.view(session, booking))
