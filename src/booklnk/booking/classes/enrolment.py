"""Customers taking seats in class sessions, the waitlist, and its promotion.

A seat is taken by compare-and-swap on the session's version (bounded retries, then
409); the CHECK on `seats_taken` makes overbooking impossible even if this code were
wrong. Seats freed while people wait go to the line first: a newcomer cannot take a
seat promised to the waitlist. Promotion runs in a job (one per session at a time) and
moves an entry from `waiting` to `promoted` in the transaction that creates its booking,
so each entry is promoted exactly once, in line order.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking import holds
from booklnk.booking import service as bookings
from booklnk.booking.classes import seats
from booklnk.booking.classes.errors import (
    AlreadyWaiting,
    SeatsAvailable,
    SessionClosed,
    SessionFull,
    SessionNotFound,
    WaitlistEntryNotFound,
)
from booklnk.booking.classes.models import ClassSession, SessionStatus, WaitlistEntry, WaitlistStatus
from booklnk.booking.classes.service import booking_time, class_rules
from booklnk.booking.errors import ConcurrentUpdate
from booklnk.booking.models import Booking, BookingStatus
from booklnk.business_types.definition import EffectiveRules
from booklnk.business_types.rules import validate_booking_fields
from booklnk.catalog import repository as catalog
from booklnk.db.errors import violated_constraint
from booklnk.scheduling.errors import slot_error
from booklnk.scheduling.rules import BookingTime
from booklnk.tenancy import service as tenancy
from booklnk.tenancy.context import BusinessContext

MAX_SEAT_TRIES = 20  # CAS rounds: each lost round means another customer got a seat


@dataclass(frozen=True, slots=True)
class SeatRequest:
    payment_method: str | None = None
    extra_fields: Mapping[str, Any] = field(default_factory=dict)
    customer_id: uuid.UUID | None = None  # staff booking on a customer's behalf


def _check_bookable(current: ClassSession, now: datetime, timing: BookingTime | None) -> None:
    """An open session; for a customer, also a start the appointment timing rules accept
    (`BookingTime`: grid, minimum notice, horizon in whole local days), the very rule the
    session listing filters with. A promotion (no `timing`) only needs the session open."""
    if current.status is not SessionStatus.SCHEDULED or current.starts_at <= now:
        raise SessionClosed("The session was cancelled or has started.")
    if timing is not None and (rule := timing.rejection(current.starts_at)) is not None:
        raise slot_error(rule, field="path.session_id")


async def book_seat(
    session: AsyncSession, ctx: BusinessContext, session_id: uuid.UUID, request: SeatRequest, *, now: datetime
) -> Booking:
    """Take a seat for the customer: `held` until paid when the policy asks for payment,
    else `confirmed`. Full (or the free seats promised to the waitlist): 409 `session_full`."""
    rules = await class_rules(session, ctx, "path.session_id")
    customer_id = await tenancy.customer_for(session, ctx, request.customer_id)
    payment_rules = await _payment_rules(session, ctx, session_id, rules)
    validate_booking_fields(rules, request.extra_fields)
    status, hold_expires_at, method = bookings.initial_state(payment_rules, request.payment_method, now)
    waiting = await seats.waiting_count(session, ctx.business_id, session_id)
    timing = booking_time(rules, ctx, now)
    current = await _take_seat(session, ctx.business_id, session_id, timing, now, promised=waiting)
    return await _new_booking(
        session, current, customer_id, status, hold_expires_at, method, request.extra_fields
    )


async def _payment_rules(
    session: AsyncSession, ctx: BusinessContext, session_id: uuid.UUID, rules: EffectiveRules
) -> EffectiveRules:
    """The business's rules, with the class's service's payment overrides if it has any."""
    current = await seats.read(session, ctx.business_id, session_id)
    if current is None:
        raise SessionNotFound("No such class session.")
    service = await catalog.get_service(session, ctx.business_id, current.service_id)
    assert service is not None  # the session's foreign key guarantees it
    return await bookings.rules_for_service(session, ctx, service, rules)


async def _take_seat(
    session: AsyncSession,
    business_id: uuid.UUID,
    session_id: uuid.UUID,
    timing: BookingTime | None,
    now: datetime,
    *,
    promised: int,
) -> ClassSession:
    """Compare-and-swap one seat (`timing` None: a promotion); a lost round re-reads.
    Lapsed holds are swept (in this transaction) only when they may stand between the
    customer and a seat."""
    swept = False
    for _ in range(MAX_SEAT_TRIES):
        current = await seats.read(session, business_id, session_id)
        if current is None:
            raise SessionNotFound("No such class session.")
        _check_bookable(current, now, timing)
        if current.capacity - current.seats_taken <= promised:
            if not swept and await holds.sweep_session_holds(session, business_id, session_id, now=now):
                swept = True
                continue
            raise SessionFull(
                "No seat is free; join the waitlist.",
                extra={"waitlist": f"/v1/businesses/{business_id}/class-sessions/{session_id}/waitlist"},
            )
        if await seats.take(session, current):
            return current
    raise ConcurrentUpdate("Seats kept changing; try again.")


async def _new_booking(
    session: AsyncSession,
    current: ClassSession,
    customer_id: uuid.UUID,
    status: BookingStatus,
    hold_expires_at: datetime | None,
    method: str | None,
    extra_fields: Mapping[str, Any],
) -> Booking:
    service = await catalog.get_service(session, current.business_id, current.service_id)
    assert service is not None  # the session's foreign key guarantees it
    booking = Booking(
        business_id=current.business_id,
        id=uuid.uuid4(),
        customer_id=customer_id,
        service_id=current.service_id,
        staff_id=current.staff_id,
        session_id=current.id,
        status=status,
        starts_at=current.starts_at,
        ends_at=current.ends_at,
        hold_expires_at=hold_expires_at,
        payment_method=method,
        price_minor=service.price_minor,
        currency=service.currency,
        extra_fields=dict(extra_fields),
        version=1,
    )
    session.add(booking)
    await session.flush()
    await holds.schedule_expiry(session, booking)
    return booking


async def join_waitlist(
    session: AsyncSession, ctx: BusinessContext, session_id: uuid.UUID, request: SeatRequest, *, now: datetime
) -> tuple[WaitlistEntry, int]:
    """Get in line for a full session; returns the entry and its place (1 = next)."""
    rules = await class_rules(session, ctx, "path.session_id")
    customer_id = await tenancy.customer_for(session, ctx, request.customer_id)
    validate_booking_fields(rules, request.extra_fields)
    _, _, method = bookings.initial_state(rules, request.payment_method, now)
    current = await seats.read(session, ctx.business_id, session_id)
    if current is None:
        raise SessionNotFound("No such class session.")
    _check_bookable(current, now, booking_time(rules, ctx, now))
    waiting = await seats.waiting_count(session, ctx.business_id, session_id)
    if current.seats_taken + waiting < current.capacity:
        raise SeatsAvailable("A seat is free: book it instead.")
    entry = WaitlistEntry(
        business_id=ctx.business_id,
        id=uuid.uuid4(),
        session_id=session_id,
        customer_id=customer_id,
        status=WaitlistStatus.WAITING,
        payment_method=method,
        extra_fields=dict(request.extra_fields),
    )
    try:
        async with session.begin_nested():
            session.add(entry)
            await session.flush()
    except IntegrityError as exc:
        if violated_constraint(exc) == "uq_waitlist_entry_waiting":
            raise AlreadyWaiting("You are already on this waitlist.") from None
        raise
    return entry, waiting + 1


async def list_waitlist(
    session: AsyncSession, ctx: BusinessContext, session_id: uuid.UUID
) -> list[WaitlistEntry]:
    if await seats.read(session, ctx.business_id, session_id) is None:
        raise SessionNotFound("No such class session.")
    stmt = (
        select(WaitlistEntry)
        .where(WaitlistEntry.business_id == ctx.business_id, WaitlistEntry.session_id == session_id)
        .order_by(WaitlistEntry.position)
    )
    return list((await session.execute(stmt)).scalars())


async def leave_waitlist(
    session: AsyncSession, ctx: BusinessContext, session_id: uuid.UUID, entry_id: uuid.UUID
) -> None:
    """The customer (or the business) takes a waiting entry out of the line."""
    entry = await session.get(WaitlistEntry, (ctx.business_id, entry_id))
    visible = entry is not None and (ctx.is_staff or entry.customer_id == ctx.actor.user_id)
    if (
        entry is None
        or not visible
        or entry.session_id != session_id
        or entry.status is not WaitlistStatus.WAITING
    ):
        raise WaitlistEntryNotFound("No such waiting entry.")
    result = await session.execute(
        update(WaitlistEntry)
        .where(
            WaitlistEntry.business_id == ctx.business_id,
            WaitlistEntry.id == entry_id,
            WaitlistEntry.status == WaitlistStatus.WAITING,
        )
        .values(status=WaitlistStatus.LEFT)
        .returning(WaitlistEntry.id)
    )
    if result.scalar_one_or_none() is None:
        raise WaitlistEntryNotFound("The entry was promoted or closed meanwhile.")


async def promote(
    session: AsyncSession, ctx: BusinessContext, session_id: uuid.UUID, *, now: datetime
) -> list[uuid.UUID]:
    """The promotion job: give every free seat to the first in line, in order; a
    session that started or was cancelled closes its line. Returns the new bookings."""
    rules = await class_rules(session, ctx, "session_id")
    current = await seats.read(session, ctx.business_id, session_id)
    if current is None:
        return []
    if current.status is not SessionStatus.SCHEDULED or current.starts_at <= now:
        await _close_line(session, ctx.business_id, session_id)
        return []
    payment_rules = await _payment_rules(session, ctx, session_id, rules)
    promoted: list[uuid.UUID] = []
    while (entry := await _first_in_line(session, ctx.business_id, session_id)) is not None:
        try:
            seat = await _take_seat(session, ctx.business_id, session_id, None, now, promised=0)
        except SessionFull:
            break
        status, hold_expires_at, method = _promotion_state(payment_rules, entry, now)
        booking = await _new_booking(
            session, seat, entry.customer_id, status, hold_expires_at, method, entry.extra_fields
        )
        entry.status = WaitlistStatus.PROMOTED
        entry.booking_id = booking.id
        await session.flush()
        promoted.append(booking.id)
    return promoted


def _promotion_state(
    rules: EffectiveRules, entry: WaitlistEntry, now: datetime
) -> tuple[BookingStatus, datetime | None, str | None]:
    """The method chosen when joining; if the business has dropped it since, its first
    allowed method, so a promotion is never lost to a settings change."""
    method = entry.payment_method
    if rules.requires_payment_to_confirm and method not in rules.payment_methods:
        method = rules.payment_methods[0]
    return bookings.initial_state(rules, method, now)


async def _first_in_line(
    session: AsyncSession, business_id: uuid.UUID, session_id: uuid.UUID
) -> WaitlistEntry | None:
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


async def _close_line(session: AsyncSession, business_id: uuid.UUID, session_id: uuid.UUID) -> None:
    await session.execute(
        update(WaitlistEntry)
        .where(
            WaitlistEntry.business_id == business_id,
            WaitlistEntry.session_id == session_id,
            WaitlistEntry.status == WaitlistStatus.WAITING,
        )
        .values(status=WaitlistStatus.CLOSED)
    )
