"""Booking use cases: create (held or confirmed), change of status, reschedule, and the
cancellation policy. (Hold expiry and what payments do to holds: `holds`.)

Concurrency: PostgreSQL's exclusion constraint on allocations is the guarantee; the
engine's answer is only the plan. Creation tries the engine's candidates until the
constraint accepts one, so an "any staff" request that loses its first candidate to a
concurrent booking takes the next. Status changes compare-and-swap on `version`.
"""

from __future__ import annotations

import functools
import itertools
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking import availability, repository
from booklnk.booking.errors import (
    BookingNotFound,
    CancellationWindowPassed,
    ConcurrentUpdate,
    PaymentRequired,
    VersionMismatch,
)
from booklnk.booking.holds import schedule_expiry
from booklnk.booking.lifecycle import Action, InvalidTransition, next_status
from booklnk.booking.models import Booking, BookingStatus
from booklnk.booking.status import MAX_CAS_TRIES, swap_status
from booklnk.business_types.definition import EffectiveRules
from booklnk.business_types.rules import validate_booking_fields
from booklnk.catalog.models import Service
from booklnk.kernel.errors import ValidationFailed
from booklnk.scheduling.availability import Slot, SlotRejection, check_slot
from booklnk.scheduling.errors import SlotUnavailable, slot_error
from booklnk.scheduling.intervals import Interval
from booklnk.tenancy import service as tenancy
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
    starts_at: datetime
    staff_id: uuid.UUID | None = None
    duration_minutes: int | None = None
    payment_method: str | None = None
    extra_fields: Mapping[str, Any] = field(default_factory=dict)
    customer_id: uuid.UUID | None = None  # staff booking on a customer's behalf


async def create_booking(
    session: AsyncSession, ctx: BusinessContext, new: NewBooking, *, now: datetime
) -> BookingView:
    customer_id = await tenancy.customer_for(session, ctx, new.customer_id)
    offer, slot = await _offer_at(
        session,
        ctx,
        new.service_id,
        new.starts_at,
        staff_id=new.staff_id,
        duration_minutes=new.duration_minutes,
        now=now,
    )
    rules = await rules_for_service(session, ctx, offer.service, offer.rules)
    validate_booking_fields(rules, new.extra_fields)
    status, hold_expires_at, method = initial_state(rules, new.payment_method, now)
    booking = Booking(
        business_id=ctx.business_id,
        id=uuid.uuid4(),
        customer_id=customer_id,
        service_id=offer.service.id,
        status=status,
        starts_at=slot.start,
        ends_at=slot.end,
        hold_expires_at=hold_expires_at,
        payment_method=method,
        price_minor=offer.service.price_minor,
        currency=offer.service.currency,
        extra_fields=dict(new.extra_fields),
        version=1,
    )

    async def write(placement: repository.Placement) -> None:
        await repository.insert_booking(session, booking, placement)

    resource_ids = await _place(session, offer, slot, booking.id, write, now=now)
    await schedule_expiry(session, booking)
    return BookingView(booking, resource_ids)


async def _offer_at(
    session: AsyncSession,
    ctx: BusinessContext,
    service_id: uuid.UUID,
    start: datetime,
    *,
    staff_id: uuid.UUID | None,
    duration_minutes: int | None,
    now: datetime,
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
    )
    verdict = check_slot(offer.request, start, staff_id=staff_id)
    if isinstance(verdict, SlotRejection):
        field_name = "body.duration_minutes" if verdict.code == "invalid_duration" else "body.starts_at"
        raise slot_error(verdict.rule, field=field_name)
    return offer, verdict


async def rules_for_service(
    session: AsyncSession,
    ctx: BusinessContext,
    service: Service,
    business_rules: EffectiveRules | None = None,
) -> EffectiveRules:
    """The rules a booking of `service` follows: the business's, with the service's own
    payment overrides when it has any."""
    if not service.payment_overrides and business_rules is not None:
        return business_rules
    return await tenancy.business_rules(session, ctx, service.payment_overrides)


def initial_state(
    rules: EffectiveRules, method: str | None, now: datetime
) -> tuple[BookingStatus, datetime | None, str | None]:
    """Held until paid when the policy needs payment, else confirmed at once."""
    if not rules.requires_payment_to_confirm:
        return BookingStatus.CONFIRMED, None, None
    if method is None or method not in rules.payment_methods:
        allowed = ", ".join(rules.payment_methods)
        raise ValidationFailed.on(
            "body.payment_method", "payment_method_required", f"Choose one of: {allowed}."
        )
    return BookingStatus.HELD, now + timedelta(minutes=rules.hold_minutes[method]), method


# Writes one candidate combination (the exclusion constraint decides whether it goes in).
Writer = Callable[[repository.Placement], Awaitable[None]]


async def _place(
    session: AsyncSession,
    offer: availability.Offer,
    slot: Slot,
    booking_id: uuid.UUID,
    write: Writer,
    *,
    now: datetime,
) -> list[uuid.UUID]:
    """Try the engine's candidates (staff x free resources) until the exclusion constraint
    accepts one; its resources are returned. When every one loses to concurrent bookings,
    409. Each request starts at a random place in the lists, so that simultaneous "any
    staff" requests spread over the free staff instead of all fighting for the first."""
    blocked = offer.request.blocked(slot.start)
    kinds = offer.request.service.required_resource_kinds
    business_id = offer.service.business_id
    combos = itertools.product(_rotated(slot.staff_ids), *(_rotated(slot.resource_ids[k]) for k in kinds))
    for staff_id, *resource_ids in itertools.islice(combos, MAX_PLACEMENT_TRIES):
        placement = repository.Placement(
            business_id=business_id,
            booking_id=booking_id,
            staff_id=staff_id,
            resource_ids=resource_ids,
            lanes=[offer.staff[staff_id].lane, *(offer.resources[r].lane for r in resource_ids)],
            blocked=blocked,
        )
        if await repository.placed(session, functools.partial(write, placement)):
            return list(resource_ids)
        # Lapsed holds stay in the constraint until released: only when one may be in the
        # way (a conflict) are they swept, and the same candidate tried once more; both in
        # one savepoint, so that losing the retry gives their rows back to the next comer.
        lapsed = await repository.lapsed_holds_in_the_way(session, business_id, placement.lanes, blocked, now)
        retry = functools.partial(_expire_and_write, session, lapsed, write, placement)
        if lapsed and await repository.placed(session, retry):
            return list(resource_ids)
    raise SlotUnavailable("The slot was just taken.", issues=[])


async def _expire_and_write(
    session: AsyncSession, lapsed: list[uuid.UUID], write: Writer, placement: repository.Placement
) -> None:
    await repository.expire_holds(session, placement.business_id, lapsed)
    await write(placement)


def _rotated(ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    start = random.randrange(len(ids)) if ids else 0
    return [*ids[start:], *ids[:start]]


@dataclass(frozen=True, slots=True)
class CancellationDecision:
    """What the policy decided when a booking was cancelled: who cancelled, and which
    share of what was paid goes back."""

    by: str  # "customer" | "business"
    within_free_window: bool
    refund_percent: int

    @property
    def refundable(self) -> bool:
        return self.refund_percent > 0


async def get_booking(session: AsyncSession, ctx: BusinessContext, booking_id: uuid.UUID) -> Booking:
    """A booking its customer, or the business's staff, may see; anyone else: not found."""
    booking = await repository.get_booking(session, ctx.business_id, booking_id)
    if booking is None or not (ctx.is_staff or booking.customer_id == ctx.actor.user_id):
        raise BookingNotFound("No such booking.")
    return booking


async def view(session: AsyncSession, booking: Booking) -> BookingView:
    resources = await repository.booking_resources(session, booking.business_id, [booking.id])
    return BookingView(booking, resources.get(booking.id, []))


def _check_version(booking: Booking, expected_version: int | None) -> None:
    """HTTP If-Match: refuse at once (412) when the client saw another version."""
    if expected_version is not None and booking.version != expected_version:
        raise VersionMismatch(f"The booking is at version {booking.version}, not {expected_version}.")


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
    rules = None
    if action is Action.CANCEL:  # only cancelling consults the business's policy
        rules = await tenancy.business_rules(session, ctx)
    for _ in range(MAX_CAS_TRIES):
        booking = await get_booking(session, ctx, booking_id)
        _check_version(booking, expected_version)
        _check_may(ctx, booking, action)
        if action is Action.CONFIRM and booking.status is BookingStatus.HELD:
            await _check_confirmable_by_hand(session, ctx, booking)
        decision = _cancellation(ctx, booking, rules, now) if rules is not None else None
        status = next_status(booking.status, action)
        if await swap_status(session, booking, status):
            return await view(session, booking), decision
        session.expunge(booking)  # re-read the winner's version
    raise ConcurrentUpdate("The booking kept changing; read it again and retry.")


def _check_may(ctx: BusinessContext, booking: Booking, action: Action) -> None:
    """Customers may only cancel their own bookings; the rest is the business's to do."""
    if ctx.is_staff or action is Action.CANCEL:
        return
    raise InsufficientRole(f"Only the business can {action.value.replace('_', ' ')} a booking.")


async def _check_confirmable_by_hand(session: AsyncSession, ctx: BusinessContext, booking: Booking) -> None:
    """A booking whose policy asks for payment is confirmed by its verified payment, never
    by hand (staff confirm a hold paid at the venue only where payment is not required)."""
    service = await repository.get_service(session, ctx.business_id, booking.service_id)
    if service is not None and (await rules_for_service(session, ctx, service)).requires_payment_to_confirm:
        raise PaymentRequired("This booking is confirmed by its payment; start a checkout for it.")


def _free_until(booking: Booking, rules: EffectiveRules) -> datetime:
    return booking.starts_at - timedelta(minutes=rules.cancellation_window_minutes)


def _cancellation(
    ctx: BusinessContext, booking: Booking, rules: EffectiveRules, now: datetime
) -> CancellationDecision:
    """Customers cancel free until the type's window before the start; after it, only if
    the type allows late cancellation, for its share back. The business may cancel any
    time, and then the customer is always owed everything they paid."""
    within = now <= _free_until(booking, rules)
    if ctx.is_staff:
        return CancellationDecision("business", within, refund_percent=100)
    if within:
        return CancellationDecision("customer", within, refund_percent=100)
    if rules.late_cancellation_refund_percent is None:
        _refuse_late(booking, rules)
    return CancellationDecision("customer", within, refund_percent=rules.late_cancellation_refund_percent)


def _refuse_late(booking: Booking, rules: EffectiveRules) -> NoReturn:
    free_until = _free_until(booking, rules)
    raise CancellationWindowPassed(
        f"Free cancellation ended at {free_until.isoformat()}; contact the business.",
        extra={"free_until": free_until.isoformat()},
    )


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
    _check_version(booking, expected_version)
    if booking.status not in (BookingStatus.HELD, BookingStatus.CONFIRMED):
        raise InvalidTransition(f"A {booking.status.value} booking cannot be rescheduled.")
    if booking.session_id is not None:
        raise InvalidTransition("A class seat moves by cancelling it and booking another session.")
    if booking.status is BookingStatus.HELD and booking.hold_expires_at and booking.hold_expires_at <= now:
        raise InvalidTransition("The hold has lapsed; book the new time instead.")
    if not ctx.is_staff:  # customers move only while they could cancel for free
        rules = await tenancy.business_rules(session, ctx)
        if now > _free_until(booking, rules):
            _refuse_late(booking, rules)
    await repository.delete_allocations(session, ctx.business_id, booking.id)
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
        moved = await repository.compare_and_swap(
            session, booking, staff_id=placement.staff_id, starts_at=slot.start, ends_at=slot.end
        )
        if moved is None:  # the caller's rollback takes the new allocations back too
            raise ConcurrentUpdate("The booking changed meanwhile; read it again and retry.")

    resource_ids = await _place(session, offer, slot, booking.id, write, now=now)
    await session.refresh(booking)
    return BookingView(booking, resource_ids)


def _minutes(booking: Booking) -> int:
    return int((booking.ends_at - booking.starts_at).total_seconds() // 60)
