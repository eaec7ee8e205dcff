"""What integrators are told about bookings (outgoing webhooks): recorded in the
transaction of the change, like the customer's messages, by `integrations.events`.

A booking's payload: its id, business, status, times (UTC, with the business's zone),
service and staff (id and name), the customer's id (no name, e-mail or phone: an
integrator that needs them reads them with the owner's token), the class session, price,
deposit, currency and version. Built only when some endpoint takes the event."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking.lifecycle import Action
from booklnk.booking.models import Booking, BookingStatus
from booklnk.catalog.models import Service, StaffMember
from booklnk.integrations import events
from booklnk.tenancy.models import Business

CREATED = "booking.created"
CONFIRMED = "booking.confirmed"
RESCHEDULED = "booking.rescheduled"
CANCELLED = "booking.cancelled"

# The status changes integrators hear of (undoing a check-in or a no-show, and a hold's
# expiry, are not in the catalogue).
BY_ACTION = {
    Action.CONFIRM: CONFIRMED,
    Action.RECONFIRM: CONFIRMED,
    Action.CANCEL: CANCELLED,
    Action.CHECK_IN: "booking.checked_in",
    Action.NO_SHOW: "booking.no_show",
    Action.COMPLETE: "booking.completed",
}

_ROWS = (
    select(Booking, Service.name, StaffMember.display_name, Business.time_zone)
    .join(Business, Business.id == Booking.business_id)
    .join(Service, (Service.business_id == Booking.business_id) & (Service.id == Booking.service_id))
    .join(
        StaffMember, (StaffMember.business_id == Booking.business_id) & (StaffMember.id == Booking.staff_id)
    )
    .where(Booking.business_id == bindparam("business_id"), Booking.id.in_(bindparam("ids", expanding=True)))
    .execution_options(populate_existing=True)
)


def _utc(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def payload(booking: Booking, service_name: str, staff_name: str, time_zone: str) -> dict[str, Any]:
    return {
        "id": str(booking.id),
        "business_id": str(booking.business_id),
        "status": booking.status.value,
        "starts_at": _utc(booking.starts_at),
        "ends_at": _utc(booking.ends_at),
        "time_zone": time_zone,
        "service": {"id": str(booking.service_id), "name": service_name},
        "staff": {"id": str(booking.staff_id), "name": staff_name},
        "customer_id": str(booking.customer_id) if booking.customer_id else None,
        "session_id": str(booking.session_id) if booking.session_id else None,
        "price_minor": booking.price_minor,
        "deposit_minor": booking.deposit_minor,
        "currency": booking.currency,
        "version": booking.version,
    }


async def emit(
    session: AsyncSession,
    business_id: uuid.UUID,
    booking_ids: Collection[uuid.UUID],
    event_type: str,
    *,
    now: datetime,
) -> None:
    """`event_type` for each of these bookings, to every endpoint that takes it."""
    await _emit(session, business_id, booking_ids, [event_type], now=now)


async def _emit(
    session: AsyncSession,
    business_id: uuid.UUID,
    booking_ids: Collection[uuid.UUID],
    event_types: Sequence[str],
    *,
    now: datetime,
) -> None:
    # One query finds who takes any of the events: a business without endpoints (most)
    # pays that one round trip per change, whatever the number of events.
    if not booking_ids:
        return
    endpoints = await events.subscribers_of(session, business_id, event_types)
    if not any(endpoints.values()):
        return
    rows = (await session.execute(_ROWS, {"business_id": business_id, "ids": list(booking_ids)})).all()
    for event_type in event_types:
        for booking, service_name, staff_name, time_zone in rows:
            if endpoints[event_type]:
                data = payload(booking, service_name, staff_name, time_zone)
                await events.record(
                    session, business_id, event_type, data, now=now, endpoints=endpoints[event_type]
                )


async def emit_for_action(
    session: AsyncSession,
    business_id: uuid.UUID,
    booking_ids: Collection[uuid.UUID],
    action: Action,
    at: datetime,
) -> None:
    event_type = BY_ACTION.get(action)
    if event_type is not None:
        await emit(session, business_id, booking_ids, event_type, now=at)


async def emit_created(session: AsyncSession, booking: Booking, *, now: datetime) -> None:
    """A new booking or seat: `booking.created`, and `booking.confirmed` too when it was
    born confirmed (so an endpoint taking only confirmations hears of every one)."""
    told = [CREATED, CONFIRMED] if booking.status is BookingStatus.CONFIRMED else [CREATED]
    await _emit(session, booking.business_id, [booking.id], told, now=now)
