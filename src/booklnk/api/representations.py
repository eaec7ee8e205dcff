"""Domain objects rendered for HTTP, with their ETags, shared by several routes."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import Response

from booklnk.booking.classes.schemas import SessionOut
from booklnk.booking.classes.sessions import SessionView
from booklnk.booking.listing import BookingCustomer
from booklnk.booking.schemas import (
    BookingCustomerOut,
    BookingListItemOut,
    BookingOut,
    CancellationOut,
    MoneyOut,
)
from booklnk.flows.bookings import BookingDetail, CancellationOutcome
from booklnk.kernel.errors import ValidationFailed
from booklnk.tenancy.context import BusinessContext

# BookingOut's fields that are the booking row's own columns.
_BOOKING_COLUMNS = tuple(
    name
    for name in BookingOut.model_fields
    if name not in ("resource_ids", "money", "cancellation", "time_zone", "starts_at_local", "ends_at_local")
)


def parse_if_match(value: str | None) -> int | None:
    """The version an `If-Match` header names (our ETags are the version, quoted)."""
    if value is None:
        return None
    try:
        return int(value.removeprefix("W/").strip('"'))
    except ValueError:
        raise ValidationFailed.on("header.If-Match", "etag_format", "Send the ETag you were given.") from None


def booking_out(
    detail: BookingDetail,
    time_zone: str,
    response: Response | None = None,
    outcome: CancellationOutcome | None = None,
) -> BookingOut:
    """The booking as the API shows it; `time_zone` is its business's, for the local times."""
    booking = detail.booking
    zone = ZoneInfo(time_zone)
    if response is not None:
        response.headers["ETag"] = f'"{booking.version}"'
    cancellation = None
    if outcome is not None:
        cancellation = CancellationOut(
            by=outcome.decision.by,
            within_free_window=outcome.decision.within_free_window,
            refund_percent=outcome.decision.refund_percent,
            refundable=outcome.decision.refundable,
            refund_minor=outcome.refund_minor,
            desk_refund_due_minor=outcome.desk_refund_due_minor,
        )
    return BookingOut(
        **{name: getattr(booking, name) for name in _BOOKING_COLUMNS},
        resource_ids=detail.view.resource_ids,
        time_zone=time_zone,
        starts_at_local=booking.starts_at.astimezone(zone),
        ends_at_local=booking.ends_at.astimezone(zone),
        money=MoneyOut.model_validate(detail.money),
        cancellation=cancellation,
    )


def listed_booking_out(
    detail: BookingDetail, time_zone: str, customer: BookingCustomer
) -> BookingListItemOut:
    """A booking as a list or calendar shows it: with who it is for."""
    shown = BookingCustomerOut(id=customer.id, name=customer.name, phone=customer.phone)
    return BookingListItemOut(**dict(booking_out(detail, time_zone)), customer=shown)


def session_out(view: SessionView, ctx: BusinessContext) -> SessionOut:
    zone = ZoneInfo(ctx.time_zone)
    s = view.session
    return SessionOut(
        id=s.id,
        series_id=s.series_id,
        service_id=s.service_id,
        staff_id=s.staff_id,
        resource_ids=list(view.resource_ids),
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        time_zone=ctx.time_zone,
        starts_at_local=s.starts_at.astimezone(zone),
        ends_at_local=s.ends_at.astimezone(zone),
        capacity=s.capacity,
        seats_taken=s.seats_taken,
        seats_left=view.seats_left,
        waiting=view.waiting,
        status=s.status,
        detached=s.detached,
        version=s.version,
    )
