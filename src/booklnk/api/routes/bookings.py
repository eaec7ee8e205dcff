"""Availability search, booking creation and every change of a booking's status."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.responses import JSONResponse

from booklnk.api.deps import MemberOrCustomerCtx, NowDep, SessionDep
from booklnk.api.idempotent import IdempotencyKeyHeader, create_once
from booklnk.api.problems import problem_responses
from booklnk.api.representations import booking_out, parse_if_match, session_out
from booklnk.booking import availability, service
from booklnk.booking.classes import service as classes
from booklnk.booking.classes.schemas import ClassAvailabilityOut
from booklnk.booking.lifecycle import Action
from booklnk.booking.schemas import (
    AvailabilityOut,
    BookingCreate,
    BookingMove,
    BookingOut,
    CancellationOut,
    SlotOut,
)
from booklnk.catalog.schemas import EARLIEST_INSTANT, LATEST_INSTANT
from booklnk.kernel.errors import ValidationFailed
from booklnk.payments import cancellations
from booklnk.scheduling.intervals import Interval

router = APIRouter(prefix="/v1/businesses/{business_id}", tags=["bookings"])
IfMatchHeader = Annotated[str | None, Header(description="The booking's ETag; 412 if it changed.")]


@router.get(
    "/availability",
    summary="Bookable start times for a service",
    description="Honours hours, breaks, time off, overrides, bookings, unexpired holds, buffers, the grid, "
    "minimum notice, horizon and required resources. Omit `staff_id` for any qualified staff member. "
    "In a class business, the scheduled sessions of the service in the window, with seats left.",
    response_model=AvailabilityOut | ClassAvailabilityOut,
    responses=problem_responses(401, 403, 404, 422),
)
async def search_availability(
    ctx: MemberOrCustomerCtx,
    session: SessionDep,
    now: NowDep,
    service_id: uuid.UUID,
    from_: Annotated[datetime, Query(alias="from", description="Window start, with offset.")],
    to: Annotated[datetime, Query(description="Window end, with offset (at most 62 days later).")],
    staff_id: uuid.UUID | None = None,
    duration: Annotated[int | None, Query(ge=1, le=1440)] = None,
) -> AvailabilityOut | ClassAvailabilityOut:
    if from_.tzinfo is None or to.tzinfo is None or to <= from_:
        raise ValidationFailed.on("query.to", "valid_window", "Give `from` < `to`, both with a UTC offset.")
    for name, instant in (("from", from_), ("to", to)):
        if not EARLIEST_INSTANT <= instant <= LATEST_INSTANT:
            raise ValidationFailed.on(
                f"query.{name}", "out_of_range", "Search between the years 2000 and 2199."
            )
    try:
        offer, slots = await availability.search(
            session,
            ctx,
            service_id=service_id,
            staff_id=staff_id,
            duration_minutes=duration,
            window=Interval(from_, to),
            now=now,
        )
    except ValidationFailed as exc:
        # A class business is booked by session: its availability is its sessions.
        # (Asking the engine first keeps appointment searches at their query count.)
        if [issue.rule for issue in exc.issues] != ["class_mode"]:
            raise
        views = await classes.list_sessions(
            session, ctx, start=from_, end=to, service_id=service_id, bookable_at=now
        )
        return ClassAvailabilityOut(
            time_zone=ctx.time_zone, service_id=service_id, sessions=[session_out(v, ctx) for v in views]
        )
    zone = offer.request.zone
    return AvailabilityOut(
        time_zone=ctx.time_zone,
        service_id=service_id,
        duration_minutes=offer.request.duration_minutes,
        slots=[
            SlotOut(
                starts_at=slot.start.astimezone(zone),
                ends_at=slot.end.astimezone(zone),
                starts_at_utc=slot.start,
                ends_at_utc=slot.end,
                staff_ids=list(slot.staff_ids),
                resource_ids={kind: list(ids) for kind, ids in slot.resource_ids.items()},
            )
            for slot in slots
        ],
    )


@router.post(
    "/bookings",
    summary="Book a service at a start time",
    description="Born `held` (with `hold_expires_at`) when the business asks for payment first, else "
    "`confirmed`. A taken slot answers 409 `slot_unavailable`. With `Idempotency-Key`, a retry with the "
    "same body gets the original response for 24 hours (header `Idempotent-Replayed: true`); the same key "
    "with another body answers 422; while the first request runs, 409.",
    status_code=status.HTTP_201_CREATED,
    response_model=BookingOut,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_booking(
    body: BookingCreate,
    ctx: MemberOrCustomerCtx,
    session: SessionDep,
    now: NowDep,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> BookingOut | JSONResponse:
    new = service.NewBooking(
        service_id=body.service_id,
        starts_at=body.starts_at,
        staff_id=body.staff_id,
        duration_minutes=body.duration_minutes,
        payment_method=body.payment_method,
        extra_fields=body.extra_fields,
        customer_id=body.customer_id,
    )

    async def create() -> BookingOut:
        return booking_out(await service.create_booking(session, ctx, new, now=now), response)

    return await create_once(session, ctx, idempotency_key, body, create, now=now)


@router.get(
    "/bookings/{booking_id}",
    summary="Get a booking (its customer, or the business's staff)",
    response_model=BookingOut,
    responses=problem_responses(401, 403, 404),
)
async def get_booking(
    booking_id: uuid.UUID, ctx: MemberOrCustomerCtx, session: SessionDep, response: Response
) -> BookingOut:
    return booking_out(
        await service.view(session, await service.get_booking(session, ctx, booking_id)), response
    )


def _transition_route(action: Action, path: str, summary: str) -> None:
    async def transition(
        booking_id: uuid.UUID,
        ctx: MemberOrCustomerCtx,
        session: SessionDep,
        now: NowDep,
        response: Response,
        if_match: IfMatchHeader = None,
    ) -> BookingOut:
        view, decision = await service.change_status(
            session, ctx, booking_id, action, expected_version=parse_if_match(if_match), now=now
        )
        cancellation = CancellationOut.model_validate(decision, from_attributes=True) if decision else None
        if cancellation is not None:
            # The policy's share of what was paid goes back, recorded with the cancellation.
            intent = await cancellations.refund_cancellation(
                session,
                ctx.business_id,
                booking_id,
                by=cancellation.by,
                refund_percent=cancellation.refund_percent,
            )
            cancellation.refund_minor = intent.amount_minor if intent else None
        return booking_out(view, response, cancellation)

    transition.__name__ = f"{action.value}_booking"
    router.add_api_route(
        f"/bookings/{{booking_id}}/{path}",
        transition,
        methods=["POST"],
        summary=summary,
        response_model=BookingOut,
        responses=problem_responses(401, 403, 404, 409, 412, 422),
    )


@router.post(
    "/bookings/{booking_id}/reschedule",
    summary="Move a booking to another time (atomically: the new slot or nothing changes)",
    response_model=BookingOut,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
async def reschedule_booking(
    booking_id: uuid.UUID,
    body: BookingMove,
    ctx: MemberOrCustomerCtx,
    session: SessionDep,
    now: NowDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> BookingOut:
    move = service.Move(
        starts_at=body.starts_at, staff_id=body.staff_id, duration_minutes=body.duration_minutes
    )
    view = await service.reschedule(
        session, ctx, booking_id, move, expected_version=parse_if_match(if_match), now=now
    )
    return booking_out(view, response)


for _action, _path, _summary in (
    (Action.CONFIRM, "confirm", "Confirm a held booking paid at the venue (not one that needs payment)"),
    (Action.CANCEL, "cancel", "Cancel a booking; the response says what the policy decided"),
    (Action.CHECK_IN, "check-in", "Check the customer in"),
    (Action.COMPLETE, "complete", "Mark the booking completed"),
    (Action.NO_SHOW, "no-show", "Mark the customer as a no-show"),
):
    _transition_route(_action, _path, _summary)
