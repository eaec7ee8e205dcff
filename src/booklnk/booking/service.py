"""Booking use cases: create (held, confirmed, or a walk-in checked in now) and
reschedule. (Status changes: `actions`; hold expiry and what payments do to holds:
`holds`; the per-customer limits: `limits`.)

Concurrency: PostgreSQL's exclusion constraint on allocations is the guarantee; the
engine's answer is only the plan. Creation tries the engine's candidates until the
constraint accepts one, so an "any staff" request that loses its first candidate to a
concurrent booking takes the next.
"""

from __future__ import annotations

import functools
import itertools
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking import (
    availability,
    customers,
    integrator_events,
    limits,
    messages,
    occupancy,
    repository,
    transitions,
)
from booklnk.booking.cancellation import free_until, refuse_late
from booklnk.booking.errors import BookingNotFound, ConcurrentUpdate, VersionMismatch
from booklnk.booking.holds import schedule_expiry
from booklnk.booking.lifecycle import Action, InvalidTransition
from booklnk.booking.models import Booking, BookingStatus
from booklnk.business_types.definition import EffectiveRules
from booklnk.business_types.rules import validate_booking_fields
from booklnk.customers import events as customer_events
from booklnk.customers import service as customer_records
from booklnk.db.jobs import enqueue
from booklnk.kernel.errors import ValidationFailed
from booklnk.scheduling.availability import Slot, SlotRejection, check_slot
from booklnk.scheduling.errors import SlotUnavailable, slot_error
from booklnk.scheduling.intervals import Interval
from booklnk.tenancy.context import BusinessContext
from booklnk.tenancy.errors import InsufficientRole

MAX_PLACEMENT_TRIES = 32  # candidate combinations tried before answering 409


@dataclass(frozen=True, slots=True)
class BookingView:
    """A booking with the resources it holds (they live on its allocations)."""

    booking: Booking
    resource_ids: list[uuid.UUID]


@dataclass(frozen=True, slots=True)
class NewBooking:
    service_id: uuid.UUID
    starts_at: datetime | None  # None only for a walk-in: it starts now
    staff_id: uuid.UUID | None = None
    duration_minutes: int | None = None
    payment_method: str | None = None
    extra_fields: Mapping[str, Any] = field(default_factory=dict)
    customer_id: uuid.UUID | None = None  # staff booking on a customer's behalf
    guest_name: str | None = None  # staff booking for someone without an account
    customer_record_id: uuid.UUID | None = None  # staff booking by the business's record of them
    walk_in: bool = False  # staff: the customer is here, the booking starts now


@dataclass(frozen=True, slots=True)
class InitialState:
    status: BookingStatus
    hold_expires_at: datetime | None
    payment_method: str | None
    deposit_minor: int


def initial_state(rules: EffectiveRules, method: str | None, price_minor: int, now: datetime) -> InitialState:
    """Held for a short checkout window when the policy wants money up front (whatever
    the method: its own longer window starts only once the gateway reports the payment
    pending), else confirmed at once."""
    deposit = rules.upfront_minor(price_minor)
    if deposit == 0:
        return InitialState(BookingStatus.CONFIRMED, None, None, 0)
    if method is None or method not in rules.payment_methods:
        allowed = ", ".join(rules.payment_methods)
        raise ValidationFailed.on(
            "body.payment_method", "payment_method_required", f"Choose one of: {allowed}."
        )
    hold_until = now + timedelta(minutes=rules.checkout_hold_minutes)
    return InitialState(BookingStatus.HELD, hold_until, method, deposit)


async def create_booking(
    session: AsyncSession, ctx: BusinessContext, new: NewBooking, *, now: datetime
) -> BookingView:
    customer_id, guest_name, record_id = await _customer(session, ctx, new)
    start = now.replace(second=0, microsecond=0) if new.walk_in else new.starts_at
    if start is None:
        raise ValidationFailed.on("body.starts_at", "required", "Give the start (or book a walk-in).")
    offer, slot = await _offer_at(
        session,
        ctx,
        new.service_id,
        start,
        staff_id=new.staff_id,
        duration_minutes=new.duration_minutes,
        now=start if new.walk_in else now,
        walk_in=new.walk_in,
    )
    rules = ctx.rules_for(offer.service.payment_overrides)
    validate_booking_fields(rules, new.extra_fields)
    if new.walk_in:  # paid at the desk, whatever the policy: the customer is here
        state = InitialState(BookingStatus.CHECKED_IN, None, None, 0)
    else:
        state = initial_state(rules, new.payment_method, offer.service.price_minor, now)
    if customer_id is not None:
        held = state.status is BookingStatus.HELD
        await limits.check_customer_limits(session, ctx, customer_id, slot.start, held=held, now=now)
    booking = Booking(
        business_id=ctx.business_id,
        id=uuid.uuid4(),
        customer_id=customer_id,
        guest_name=guest_name,
        customer_record_id=record_id,
        service_id=offer.service.id,
        status=state.status,
        starts_at=slot.start,
        ends_at=slot.end,
        hold_expires_at=state.hold_expires_at,
        payment_method=state.payment_method,
        price_minor=offer.service.price_minor,
        deposit_minor=state.deposit_minor,
        currency=offer.service.currency,
        extra_fields=dict(new.extra_fields),
        version=1,
    )
    audit = transitions.audit_of(ctx, now)

    recorded: list[uuid.UUID] = []  # the customer record this booking made, if any

    async def write(placement: repository.Placement) -> None:
        if (record_id := await repository.insert_booking(session, booking, placement, audit)) is not None:
            recorded.append(record_id)

    resource_ids = await _place(session, offer, slot, booking.id, write, audit)
    await schedule_expiry(session, booking)
    if (warning := messages.warning_job(booking, now=now)) is not None:
        await enqueue(session, warning)
    if booking.status is BookingStatus.CONFIRMED and booking.customer_id is not None:  # (a guest: no address)
        await messages.tell(session, ctx.business_id, [booking.id], messages.Event.CONFIRMED, now=now)
    await integrator_events.emit_created(session, booking, now=now)
    for record_id in recorded:
        await customer_events.created(
            session, ctx.business_id, record_id, account_id=booking.customer_id, now=now
        )
    return BookingView(booking, resource_ids)


async def _customer(
    session: AsyncSession, ctx: BusinessContext, new: NewBooking
) -> tuple[uuid.UUID | None, str | None, uuid.UUID | None]:
    """Whom the booking is for (account, guest's name, record): the caller, or (staff
    only) an account, a record of the business's, or a guest by name. A walk-in needs one
    of the last three."""
    staff_only = {
        "body.walk_in": new.walk_in,
        "body.guest_name": new.guest_name is not None,
        "body.customer_record_id": new.customer_record_id is not None,
    }
    if not ctx.is_staff and (named := [name for name, given in staff_only.items() if given]):
        raise InsufficientRole(f"Only the business's staff can book this way ({named[0]}).")
    given = [new.customer_id, new.guest_name, new.customer_record_id]
    if sum(value is not None for value in given) > 1:
        field_name = "body.guest_name" if new.guest_name is not None else "body.customer_record_id"
        raise ValidationFailed.on(
            field_name, "one_of", "Give one of customer_id, customer_record_id or guest_name."
        )
    if new.guest_name is not None:
        return None, new.guest_name, None
    if new.customer_record_id is not None:
        booked = await customer_records.for_booking(session, ctx, new.customer_record_id)
        return booked.user_id, None if booked.user_id else booked.name, booked.record_id
    if new.walk_in and new.customer_id is None:
        raise ValidationFailed.on(
            "body.guest_name",
            "required",
            "Name the walk-in, or give their customer_id or customer_record_id.",
        )
    return await customers.customer_for(session, ctx, new.customer_id), None, None


async def _offer_at(
    session: AsyncSession,
    ctx: BusinessContext,
    service_id: uuid.UUID,
    start: datetime,
    *,
    staff_id: uuid.UUID | None,
    duration_minutes: int | None,
    now: datetime,
    walk_in: bool = False,
) -> tuple[availability.Offer, Slot]:
    """The engine's data around one requested start, and its options there; or the
    422/409 naming the rule the start breaks."""
    offer = await availability.prepare(
        session,
        ctx,
        service_id=service_id,
        staff_id=staff_id,
        duration_minutes=duration_minutes,
        window=Interval(start, start + timedelta(minutes=1)),
        now=now,
        source="body",
        walk_in=walk_in,
    )
    verdict = check_slot(offer.request, start, staff_id=staff_id)
    if isinstance(verdict, SlotRejection):
        field_name = "body.duration_minutes" if verdict.code == "invalid_duration" else "body.starts_at"
        raise slot_error(verdict.rule, field=field_name)
    return offer, verdict


# Writes one candidate combination (the exclusion constraint decides whether it goes in).
Writer = Callable[[repository.Placement], Awaitable[None]]


async def _place(
    session: AsyncSession,
    offer: availability.Offer,
    slot: Slot,
    booking_id: uuid.UUID,
    write: Writer,
    audit: repository.Audit,
) -> list[uuid.UUID]:
    """Try the engine's candidates (staff x free resources) until the exclusion constraint
    accepts one; its resources are returned. When every one loses to concurrent bookings,
    409. Each request starts at a random place in the lists, so that simultaneous "any
    staff" requests spread over the free staff instead of all fighting for the first."""
    blocked = offer.request.blocked(slot.start)
    kinds = offer.request.service.required_resource_kinds
    business_id = offer.service.business_id
    combos = itertools.product(_rotated(slot.staff_ids), *(_rotated(slot.resource_ids[k]) for k in kinds))
    placing = repository.Placing(session)
    for staff_id, *resource_ids in itertools.islice(combos, MAX_PLACEMENT_TRIES):
        placement = repository.Placement(
            business_id=business_id,
            booking_id=booking_id,
            staff_id=staff_id,
            resource_ids=resource_ids,
            lanes=[offer.staff[staff_id].lane, *(offer.resources[r].lane for r in resource_ids)],
            blocked=blocked,
        )
        if await placing.placed(functools.partial(write, placement)):
            return list(resource_ids)
        # Lapsed holds stay in the constraint until released: only when one may be in the
        # way (a conflict) are they expired, and the same candidate tried once more; both
        # under the savepoint, so that losing the retry gives their rows back to the next comer.
        lapsed = await occupancy.lapsed_holds_in_the_way(
            session, business_id, placement.lanes, blocked, offer.request.now
        )
        retry = functools.partial(_expire_and_write, session, lapsed, write, placement, audit)
        if lapsed and await placing.placed(retry):
            return list(resource_ids)
    raise SlotUnavailable("The slot was just taken.", issues=[])


async def _expire_and_write(
    session: AsyncSession,
    lapsed: list[uuid.UUID],
    write: Writer,
    placement: repository.Placement,
    audit: repository.Audit,
) -> None:
    await transitions.transition_many(
        session, placement.business_id, Action.EXPIRE, repository.Audit(None, audit.at), booking_ids=lapsed
    )
    await write(placement)


def _rotated(ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    start = random.randrange(len(ids)) if ids else 0
    return [*ids[start:], *ids[:start]]


async def get_booking(session: AsyncSession, ctx: BusinessContext, booking_id: uuid.UUID) -> Booking:
    """A booking its customer, or the business's staff, may see; anyone else: not found."""
    booking = await repository.get_booking(session, ctx.business_id, booking_id)
    if booking is None or not (ctx.is_staff or booking.customer_id == ctx.actor.user_id):
        raise BookingNotFound("No such booking.")
    return booking


async def view(session: AsyncSession, booking: Booking) -> BookingView:
    resources = await occupancy.booking_resources(session, booking.business_id, [booking.id])
    return BookingView(booking, resources.get(booking.id, []))


def check_version(booking: Booking, expected_version: int | None) -> None:
    """HTTP If-Match: refuse at once (412) when the client saw another version."""
    if expected_version is not None and booking.version != expected_version:
        raise VersionMismatch(f"The booking is at version {booking.version}, not {expected_version}.")


@dataclass(frozen=True, slots=True)
class Move:
    starts_at: datetime
    staff_id: uuid.UUID | None = None
    duration_minutes: int | None = None


async def reschedule(
    session: AsyncSession,
    ctx: BusinessContext,
    booking_id: uuid.UUID,
    move: Move,
    *,
    expected_version: int | None,
    now: datetime,
) -> BookingView:
    """Move a held or confirmed booking in one transaction: its old time is released and
    the new one taken, or (any error) the caller's rollback leaves everything as it was.
    The old allocations go first so that a move overlapping the old time is possible."""
    booking = await get_booking(session, ctx, booking_id)
    check_version(booking, expected_version)
    if booking.status not in (BookingStatus.HELD, BookingStatus.CONFIRMED):
        raise InvalidTransition(f"A {booking.status.value} booking cannot be rescheduled.")
    if booking.session_id is not None:
        raise InvalidTransition("A class seat moves by cancelling it and booking another session.")
    if booking.status is BookingStatus.HELD and booking.hold_expires_at and booking.hold_expires_at <= now:
        raise InvalidTransition("The hold has lapsed; book the new time instead.")
    if not ctx.is_staff and now > free_until(booking, ctx.rules):  # customers move only while free
        refuse_late(booking, ctx.rules)
    await repository.delete_allocations(session, ctx.business_id, booking_id=booking.id)
    offer, slot = await _offer_at(
        session,
        ctx,
        booking.service_id,
        move.starts_at,
        staff_id=move.staff_id,
        duration_minutes=move.duration_minutes or _minutes(booking),
        now=now,
    )

    async def write(placement: repository.Placement) -> None:
        await repository.insert_allocations(session, placement)
        moved = await repository.swap(
            session, booking, staff_id=placement.staff_id, starts_at=slot.start, ends_at=slot.end
        )
        if moved is None:  # the caller's rollback takes the new allocations back too
            raise ConcurrentUpdate("The booking changed meanwhile; read it again and retry.")

    audit = transitions.audit_of(ctx, now)
    resource_ids = await _place(session, offer, slot, booking.id, write, audit)
    await session.refresh(booking)
    if booking.customer_id is not None:
        await messages.tell(session, ctx.business_id, [booking.id], messages.Event.RESCHEDULED, now=now)
    await integrator_events.emit(
        session, ctx.business_id, [booking.id], integrator_events.RESCHEDULED, now=now
    )
    return BookingView(booking, resource_ids)


def _minutes(booking: Booking) -> int:
    return int((booking.ends_at - booking.starts_at).total_seconds() // 60)
