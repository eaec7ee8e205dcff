"""Domain objects rendered for HTTP, with their ETags, shared by several routes."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import Response

from booklnk.booking.classes.schemas import SessionOut
from booklnk.booking.classes.service import SessionView
from booklnk.booking.schemas import BookingOut, CancellationOut
from booklnk.booking.service import BookingView
from booklnk.kernel.errors import ValidationFailed
from booklnk.tenancy.context import BusinessContext


def parse_if_match(value: str | None) -> int | None:
    """The version an `If-Match` header names (our ETags are the version, quoted)."""
    if value is None:
        return None
    try:
        return int(value.removeprefix("W/").strip('"'))
    except ValueError:
        raise ValidationFailed.on("header.If-Match", "etag_format", "Send the ETag you were given.") from None


def booking_out(
    view: BookingView, response: Response, cancellation: CancellationOut | None = None
) -> BookingOut:
    response.headers["ETag"] = f'"{view.booking.version}"'
    out = BookingOut.model_validate(view.booking)
    return out.model_copy(update={"resource_ids": view.resource_ids, "cancellation": cancellation})


def session_out(view: SessionView, ctx: BusinessContext) -> SessionOut:
    zone = ZoneInfo(ctx.time_zone)
    s = view.session
    return SessionOut(
        id=s.id,
        series_id=s.series_id,
        service_id=s.service_id,
        staff_id=s.staff_id,
        starts_at=s.starts_at.astimezone(zone),
        ends_at=s.ends_at.astimezone(zone),
        starts_at_utc=s.starts_at,
        ends_at_utc=s.ends_at,
        capacity=s.capacity,
        seats_taken=s.seats_taken,
        seats_left=view.seats_left,
        waiting=view.waiting,
        status=s.status,
        detached=s.detached,
        version=s.version,
    )
