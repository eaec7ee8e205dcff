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

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking import customers, holds, integrator_events, limits, messages, repository, transitions
from booklnk.booking.classes import repository as classes
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
from booklnk.booking.classes.sessions import booking_time, class_rules
from booklnk.booking.errors import ConcurrentUpdate
from booklnk.booking.models import Booking, BookingStatus
from booklnk.booking.service import InitialState, initial_state
from booklnk.business_types.definition import EffectiveRules
from booklnk.business_types.rules import validate_booking_fields
from booklnk.catalog import repository as catalog
from booklnk.catalog.models import Service
from booklnk.customers import events as customer_events
from booklnk.db.errors import violated_constraint
from booklnk.db.jobs import enqueue
from booklnk.scheduling.errors import slot_error
from booklnk.scheduling.rules import BookingTime
from booklnk.tenancy.context import Actor, BusinessContext

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
    rules = class_rules(ctx, "path.session_id")
    customer_id = await customers.customer_for(session, ctx, request.customer_id)
    current, service = await _session_and_service(session, ctx, session_id)
    validate_booking_fields(rules, request.extra_fields)
    state = initial_state(
        ctx.rules_for(service.payment_overrides), request.payment_method, service.price_minor, now
    )
    _check_bookable(current, now, booking_time(ctx, now))
    held = state.status is BookingStatus.HELD
    await limits.check_customer_limits(session, ctx, customer_id, current.starts_at, held=held, now=now)
    waiting = await classes.waiting_count(session, ctx.business_id, session_id)
    current = await _take_seat(
        session, ctx.business_id, session_id, booking_time(ctx, now), now, promised=waiting
    )
    return await _new_booking(session, current, service, customer_id, state, request.extra_fields, ctx, now)


async def _session_and_service(
    session: AsyncSession, ctx: BusinessContext, session_id: uuid.UUID
) -> tuple[ClassSession, Service]:
    current = await seats.read(session, ctx.business_id, session_id)
    if current is None:
        raise SessionNotFound("No such class session.")
    service = await catalog.get_service(session, ctx.business_id, current.service_id)
    assert service is not None  # the session's foreign key guarantees it
    return current, service


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
    service: Service,
    customer_id: uuid.UUID,
    state: InitialState,
    extra_fields: Mapping[str, Any],
    ctx: BusinessContext,
    now: datetime,
) -> Booking:
    booking = Booking(
        business_id=current.business_id,
        id=uuid.uuid4(),
        customer_id=customer_id,
        guest_name=None,
        service_id=current.service_id,
        staff_id=current.staff_id,
        session_id=current.id,
        status=state.status,
        starts_at=current.starts_at,
        ends_at=current.ends_at,
        hold_expires_at=state.hold_expires_at,
        payment_method=state.payment_method,
        price_minor=service.price_minor,
        deposit_minor=state.deposit_minor,
        currency=service.currency,
        extra_fields=dict(extra_fields),
        version=1,
    )
    record_id = await repository.insert_seat(session, booking, transitions.audit_of(ctx, now))
    await holds.schedule_expiry(session, booking)
    if (warning := messages.warning_job(booking, now=now)) is not None:
        await enqueue(session, warning)
    if booking.status is BookingStatus.CONFIRMED:  # (a held seat is told once it is paid)
        await messages.tell(session, booking.business_id, [booking.id], messages.Event.CONFIRMED, now=now)
    await integrator_events.emit_created(session, booking, now=now)
    if record_id is not None:
        await customer_events.created(
            session, booking.business_id, record_id, account_id=customer_id, now=now
        )
    return booking


async def join_waitlist(
    session: AsyncSession, ctx: BusinessContext, session_id: uuid.UUID, request: SeatRequest, *, now: datetime
) -> tuple[WaitlistEntry, int]:
    """Get in line for a full session; returns the entry and its place (1 = next)."""
    rules = class_rules(ctx, "path.session_id")
    customer_id = await customers.customer_for(session, ctx, request.customer_id)
    validate_booking_fields(rules, request.extra_fields)
    current, service = await _session_and_service(session, ctx, session_id)
    method = initial_state(
        ctx.rules_for(service.payment_overrides), request.payment_method, service.price_minor, now
    ).payment_method
    _check_bookable(current, now, booking_time(ctx, now))
    waiting = await classes.waiting_count(session, ctx.business_id, session_id)
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
        await classes.add_entry(session, entry)
    except IntegrityError as exc:
        if violated_constraint(exc) == "uq_waitlist_entry_waiting":
            raise AlreadyWaiting("You are already on this waitlist.") from None
        raise
    return entry, waiting + 1


async def businesses_waited_in(session: AsyncSession, actor: Actor, *, limit: int) -> list[uuid.UUID]:
    """Where the actor waits in a class's line now (their own entries, any business)."""
    return await classes.businesses_waited_in(session, actor.user_id, limit=limit)


async def list_waitlist(
    session: AsyncSession, ctx: BusinessContext, session_id: uuid.UUID, *, cursor: str | None, limit: int
) -> tuple[list[WaitlistEntry], str | None]:
    if await seats.read(session, ctx.business_id, session_id) is None:
        raise SessionNotFound("No such class session.")
    return await classes.waitlist(session, ctx.business_id, session_id, cursor=cursor, limit=limit)


async def leave_waitlist(
    session: AsyncSession, ctx: BusinessContext, session_id: uuid.UUID, entry_id: uuid.UUID
) -> None:
    """The customer (or the business) takes a waiting entry out of the line."""
    entry = await classes.get_entry(session, ctx.business_id, entry_id)
    visible = entry is not None and (ctx.is_staff or entry.customer_id == ctx.actor.user_id)
    if (
        entry is None
        or not visible
        or entry.session_id != session_id
        or entry.status is not WaitlistStatus.WAITING
    ):
        raise WaitlistEntryNotFound("No such waiting entry.")
    if not await classes.leave(session, ctx.business_id, entry_id):
        raise WaitlistEntryNotFound("The entry was promoted or closed meanwhile.")


async def promote(
    session: AsyncSession, ctx: BusinessContext, session_id: uuid.UUID, *, now: datetime
) -> list[uuid.UUID]:
    """The promotion job: give every free seat to the first in line, in order; a
    session that started or was cancelled closes its line. Returns the new bookings."""
    class_rules(ctx, "session_id")
    current = await seats.read(session, ctx.business_id, session_id)
    if current is None:
        return []
    if current.status is not SessionStatus.SCHEDULED or current.starts_at <= now:
        await classes.close_lines(session, ctx.business_id, [session_id])
        return []
    _, service = await _session_and_service(session, ctx, session_id)
    payment_rules = ctx.rules_for(service.payment_overrides)
    promoted: list[uuid.UUID] = []
    while (entry := await classes.first_in_line(session, ctx.business_id, session_id)) is not None:
        try:
            seat = await _take_seat(session, ctx.business_id, session_id, None, now, promised=0)
        except SessionFull:
            break
        state = _promotion_state(payment_rules, entry, service.price_minor, now)
        booking = await _new_booking(
            session, seat, service, entry.customer_id, state, entry.extra_fields, ctx, now
        )
        await classes.mark_promoted(session, entry, booking.id)
        promoted.append(booking.id)
    # Those promoted into a seat held for payment are told, with a pay link and the deadline.
    await messages.tell(session, ctx.business_id, promoted, messages.Event.PROMOTED, now=now)
    return promoted


def _promotion_state(
    rules: EffectiveRules, entry: WaitlistEntry, price_minor: int, now: datetime
) -> InitialState:
    """The method chosen when joining; if the business has dropped it since, its first
    allowed method, so a promotion is never lost to a settings change."""
    method = entry.payment_method
    if rules.requires_payment_to_confirm and method not in rules.payment_methods:
        method = rules.payment_methods[0]
    return initial_state(rules, method, price_minor, now)
