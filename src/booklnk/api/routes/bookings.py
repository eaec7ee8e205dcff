"""Availability search, booking creation and every change of a booking's status."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response, status
from fastapi.responses import JSONResponse
from pydantic import Field
from pydantic_core import to_json
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.api import limits
from booklnk.api.created import CreatedDep
from booklnk.api.deps import MemberOrCustomerCtx, NowDep, SessionDep, StaffCtx
from booklnk.api.idempotent import IdempotencyKeyHeader, create_once
from booklnk.api.problems import problem_responses
from booklnk.api.representations import booking_out, parse_if_match, session_out
from booklnk.api.search_window import search_window
from booklnk.booking import service
from booklnk.booking.classes.schemas import ClassAvailabilityOut
from booklnk.booking.compact_slots import compact
from booklnk.booking.lifecycle import STAFF_ACTIONS, Action
from booklnk.booking.schemas import (
    AvailabilityOut,
    BookingCreate,
    BookingMove,
    BookingOut,
    CompactAvailabilityOut,
)
from booklnk.flows import availability
from booklnk.flows import bookings as flows
from booklnk.kernel.errors import ValidationFailed
from booklnk.payments.models import LedgerKind
from booklnk.payments.schemas import DeskEntryOut, DeskMoneyIn, DeskRecorded
from booklnk.scheduling.intervals import Interval
from booklnk.tenancy.context import BusinessContext

# What the availability search answers, told apart by `mode` (a discriminator in the
# OpenAPI document, so a generated client narrows the type on it).
Availability = Annotated[AvailabilityOut | ClassAvailabilityOut, Field(discriminator="mode")]

router = APIRouter(prefix="/v1/businesses/{business_id}", tags=["bookings"])
IfMatchHeader = Annotated[str | None, Header(description="The booking's ETag; 412 if it changed.")]


@dataclass(frozen=True, slots=True)
class AvailabilityQuery:
    service_id: uuid.UUID
    window: Interval
    staff_id: uuid.UUID | None
    duration: int | None


async def _availability_query(
    service_id: uuid.UUID,
    from_: Annotated[datetime, Query(alias="from", description="Window start, with offset.")],
    to: Annotated[datetime, Query(description="Window end, with offset (at most 62 days later).")],
    staff_id: uuid.UUID | None = None,
    duration: Annotated[int | None, Query(ge=1, le=1440)] = None,
) -> AvailabilityQuery:
    return AvailabilityQuery(service_id, search_window(from_, to), staff_id, duration)


AvailabilityQueryDep = Annotated[AvailabilityQuery, Depends(_availability_query)]


async def _search(
    session: AsyncSession, ctx: BusinessContext, query: AvailabilityQuery, now: datetime
) -> availability.Slots | availability.Sessions:
    return await availability.search(
        session,
        ctx,
        service_id=query.service_id,
        staff_id=query.staff_id,
        duration_minutes=query.duration,
        window=query.window,
        now=now,
    )


class _IdTexts:
    """Each id as text once per answer, and each list of them once per tuple the engine
    shares between neighbouring starts: asyncpg's UUID objects take pydantic's serializer
    ten times longer than text (any of 200 staff over 62 days: a quarter of a second)."""

    def __init__(self) -> None:
        self._text: dict[uuid.UUID, str] = {}
        self._lists: dict[int, list[str]] = {}

    def of(self, ids: tuple[uuid.UUID, ...]) -> list[str]:
        found = self._lists.get(id(ids))  # (the slots hold their tuples for the answer's length)
        if found is None:
            found = self._lists[id(ids)] = [self._one(i) for i in ids]
        return found

    def _one(self, member: uuid.UUID) -> str:
        text = self._text.get(member)
        if text is None:
            text = self._text[member] = str(member)
        return text


def _json(content: object) -> Response:
    # Plain data straight to JSON bytes (pydantic's serializer): no model per slot built
    # and then validated again against the response model. The route's `response_model`
    # still documents the answer, and the tests hold every answer to that document.
    return Response(to_json(content), media_type="application/json")


@router.get(
    "/availability",
    summary="Bookable start times for a service",
    description="Honours hours, breaks, time off, overrides, bookings, unexpired holds, buffers, the grid, "
    "minimum notice, horizon and required resources. Omit `staff_id` for any qualified staff member. "
    "In a class business, the scheduled sessions of the service in the window, with seats left. For long "
    "windows and large crews, `GET /availability/compact` answers the same starts far smaller.",
    response_model=Availability,
    responses=problem_responses(401, 403, 404, 422),
)
async def search_availability(
    ctx: MemberOrCustomerCtx, session: SessionDep, now: NowDep, query: AvailabilityQueryDep
) -> Response:
    found = await _search(session, ctx, query, now)
    if isinstance(found, availability.Sessions):
        return _json(
            ClassAvailabilityOut(
                mode="class",
                time_zone=ctx.time_zone,
                service_id=query.service_id,
                sessions=[session_out(v, ctx) for v in found.sessions],
            )
        )
    zone = found.offer.request.zone
    texts = _IdTexts()
    return _json(
        {
            "mode": "appointment",
            "time_zone": ctx.time_zone,
            "service_id": query.service_id,
            "duration_minutes": found.offer.request.duration_minutes,
            "slots": [
                {
                    "starts_at": slot.start,
                    "ends_at": slot.end,
                    "starts_at_local": slot.start.astimezone(zone),
                    "ends_at_local": slot.end.astimezone(zone),
                    "staff_ids": texts.of(slot.staff_ids),
                    "resource_ids": {kind: texts.of(ids) for kind, ids in slot.resource_ids.items()},
                }
                for slot in found.slots
            ],
        }
    )


@router.get(
    "/availability/compact",
    summary="Bookable start times for a service, compact (long windows, large crews)",
    description="The starts `GET /availability` offers, with each staff member and resource named once "
    "(`staff_ids`, `resource_ids`), each distinct set of them written once as a bit mask (`staff_sets`, "
    "`resource_sets`), and the starts as columns: `starts_at_local[i]` can be taken by the staff of "
    "`staff_sets[staff_set[i]]` with the resources of `resource_sets[kind][resource_set[kind][i]]`. Any of "
    "200 staff over 62 days is a few hundred KB instead of several MB. Appointment services only: a class "
    "service answers 422 `appointments_only` on `query.service_id` (its sessions are listed by `GET "
    "/availability`).",
    response_model=CompactAvailabilityOut,
    responses=problem_responses(401, 403, 404, 422),
)
async def search_availability_compact(
    ctx: MemberOrCustomerCtx, session: SessionDep, now: NowDep, query: AvailabilityQueryDep
) -> Response:
    if ctx.rules.mode == "class":
        raise ValidationFailed.on(
            "query.service_id",
            "appointments_only",
            "A class business's sessions are listed by GET /availability; the compact shape is for "
            "appointments.",
        )
    found = await _search(session, ctx, query, now)
    assert isinstance(found, availability.Slots)  # (an appointment business's answer)
    shape = compact(found.openings, found.offer.request.zone)
    return _json(
        {
            "time_zone": ctx.time_zone,
            "service_id": query.service_id,
            "duration_minutes": found.offer.request.duration_minutes,
            "staff_ids": shape.staff_ids,
            "resource_ids": shape.resource_ids,
            "staff_sets": shape.staff_sets,
            "resource_sets": shape.resource_sets,
            "starts_at_local": shape.starts_at_local,
            "staff_set": shape.staff_set,
            "resource_set": shape.resource_set,
        }
    )


@router.post(
    "/bookings",
    summary="Book a service at a start time (or, staff, a walk-in now)",
    description="Born `held` (with `hold_expires_at`, a short checkout window) when the business asks for "
    "payment first, else `confirmed`; a staff walk-in is born `checked_in`. A taken slot answers 409 "
    "`slot_unavailable`. A customer may hold only a few unpaid bookings per business at once (409 "
    "`too_many_holds`) and book only a few starting on one day (409 `daily_limit_reached`); both name the "
    "`rule` and its `limit`. With `Idempotency-Key`, a retry with the same body gets the original response "
    "for 24 hours (header `Idempotent-Replayed: true`); the same key with another body answers 422; while "
    "the first request runs, 409. A start that can never be booked as asked answers 422 with the rule "
    "as its code: `off_grid`, `in_past`, `inside_min_notice`, `beyond_horizon`, `outside_hours`, "
    "`invalid_duration`; an unknown service, staff member or customer record, 404 `service_not_found` / "
    "`staff_not_found` / `customer_not_found`. A business that asks for a proven mobile number refuses a "
    "customer booking without one: 403 `phone_required`. Rate-limited per client address: 429 "
    "`too_many_requests` with `Retry-After`.",
    status_code=status.HTTP_201_CREATED,
    response_model=BookingOut,
    responses=problem_responses(401, 403, 404, 409, 422, 429),
    dependencies=[Depends(limits.per_address("bookings"))],
)
async def create_booking(
    body: BookingCreate,
    ctx: MemberOrCustomerCtx,
    session: SessionDep,
    now: NowDep,
    response: Response,
    created: CreatedDep,
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
        guest_name=body.guest_name,
        customer_record_id=body.customer_record_id,
        walk_in=body.walk_in,
    )

    async def create() -> BookingOut:
        return booking_out(await flows.create(session, ctx, new, now=now), ctx.time_zone, response)

    return await create_once(
        session,
        ctx,
        idempotency_key,
        body,
        create,
        now=now,
        created=created,
        location=lambda b: created.under(b["id"]),
    )


@router.get(
    "/bookings/{booking_id}",
    summary="Get a booking (its customer, or the business's staff)",
    description="Anyone else gets 404 `booking_not_found`, as for an unknown id. The `ETag` header carries "
    "the booking's version, for `If-Match` on the changes that follow.",
    response_model=BookingOut,
    responses=problem_responses(401, 403, 404),
)
async def get_booking(
    booking_id: uuid.UUID, ctx: MemberOrCustomerCtx, session: SessionDep, response: Response
) -> BookingOut:
    return booking_out(await flows.get(session, ctx, booking_id), ctx.time_zone, response)


_TRANSITION = (
    "A status the action cannot leave answers 409 `invalid_transition` (naming `booking_status` and "
    "`action`); a booking that kept changing under concurrent writers, 409 `concurrent_update`; 404 "
    "`booking_not_found`."
)


def _transition_route(action: Action, path: str, summary: str, description: str) -> None:
    async def transition(
        booking_id: uuid.UUID,
        ctx: MemberOrCustomerCtx,
        session: SessionDep,
        now: NowDep,
        response: Response,
        if_match: IfMatchHeader = None,
    ) -> BookingOut:
        detail, outcome = await flows.act(
            session, ctx, booking_id, action, expected_version=parse_if_match(if_match), now=now
        )
        return booking_out(detail, ctx.time_zone, response, outcome)

    transition.__name__ = f"{action.value}_booking"
    # Staff actions are refused (403) at the guard; a customer may cancel their own booking.
    transition.__annotations__["ctx"] = StaffCtx if action in STAFF_ACTIONS else MemberOrCustomerCtx
    router.add_api_route(
        f"/bookings/{{booking_id}}/{path}",
        transition,
        methods=["POST"],
        summary=summary,
        description=f"{description} {_TRANSITION}",
        response_model=BookingOut,
        responses=problem_responses(401, 403, 404, 409, 412, 422),
    )


@router.post(
    "/bookings/{booking_id}/reschedule",
    summary="Move a booking to another time (atomically: the new slot or nothing changes)",
    description="Held or confirmed appointments only: any other status, a class seat or a lapsed hold "
    "answers 409 `invalid_transition`; the new time follows the rules of booking (409 `slot_unavailable` "
    "when taken). Its customer may move it only while free cancellation lasts (409 "
    "`cancellation_window_passed`), staff any time. `If-Match` honoured (412 `version_mismatch`). A new "
    "time that can never be booked answers 422 naming the rule (`off_grid`, `in_past`, "
    "`inside_min_notice`, `beyond_horizon`, `outside_hours`); 404 `booking_not_found`; a booking that "
    "kept changing under concurrent writers, 409 `concurrent_update`.",
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
    detail = await flows.reschedule(
        session, ctx, booking_id, move, expected_version=parse_if_match(if_match), now=now
    )
    return booking_out(detail, ctx.time_zone, response)


_CLOCK = (
    "Staff only, and on the clock (the business's rules): too early answers 409 `too_early` naming the "
    "`rule` and the `earliest` time, too late 409 `too_late` with the `latest`."
)
for _action, _path, _summary, _description in (
    (
        Action.CONFIRM,
        "confirm",
        "Confirm a held booking that needs no payment up front (staff)",
        "A booking that asks for payment is confirmed by its payment only: 409 `payment_required`.",
    ),
    (
        Action.CANCEL,
        "cancel",
        "Cancel a booking; the response says what the policy decided",
        "Customers cancel free until the business's window before the start, then per its policy "
        "(409 `cancellation_window_passed`); the business may cancel any time, refunding everything. "
        "What was paid online is refunded through the gateway; `cancellation.desk_refund_due_minor` is "
        "what to hand back at the desk.",
    ),
    (
        Action.CHECK_IN,
        "check-in",
        "Check the customer in",
        f"From a while before the start until its end. {_CLOCK}",
    ),
    (Action.COMPLETE, "complete", "Mark the booking completed", f"From its start. {_CLOCK}"),
    (
        Action.NO_SHOW,
        "no-show",
        "Mark the customer as a no-show",
        f"From the start plus a grace; the time stays blocked (it was the customer's). {_CLOCK}",
    ),
    (
        Action.UNDO_CHECK_IN,
        "undo-check-in",
        "Undo a check-in, back to confirmed",
        f"Only the booking's latest change (else 409 `nothing_to_undo`), within the undo window. {_CLOCK}",
    ),
    (
        Action.UNDO_NO_SHOW,
        "undo-no-show",
        "Undo a no-show, back to confirmed",
        f"Only the booking's latest change (else 409 `nothing_to_undo`), within the undo window. {_CLOCK}",
    ),
):
    _transition_route(_action, _path, _summary, _description)


def _desk_route(kind: LedgerKind, path: str, summary: str, description: str) -> None:
    async def record(
        booking_id: uuid.UUID,
        body: DeskMoneyIn,
        ctx: StaffCtx,
        session: SessionDep,
        now: NowDep,
        created: CreatedDep,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> DeskRecorded | JSONResponse:
        async def create() -> DeskRecorded:
            entry, detail = await flows.record_at_desk(
                session,
                ctx,
                booking_id,
                kind=kind,
                amount_minor=body.amount_minor,
                method=body.method,
                now=now,
            )
            return DeskRecorded(
                entry=DeskEntryOut.model_validate(entry), booking=booking_out(detail, ctx.time_zone)
            )

        # (The ledger entry is read with the booking's payments.)
        payments = f"/v1/businesses/{ctx.business_id}/bookings/{booking_id}/payments"
        return await create_once(
            session, ctx, idempotency_key, body, create, now=now, created=created, location=lambda _: payments
        )

    record.__name__ = f"record_desk_{kind.value}"
    router.add_api_route(
        f"/bookings/{{booking_id}}/{path}",
        record,
        methods=["POST"],
        status_code=status.HTTP_201_CREATED,
        summary=summary,
        description=f"{description} 404 `booking_not_found`.",
        response_model=DeskRecorded,
        responses=problem_responses(401, 403, 404, 409, 422),
    )


_desk_route(
    LedgerKind.CAPTURE,
    "desk-payments",
    "Record money taken at the desk (staff)",
    "Cash or the card terminal, at most what is still due (422 `exceeds_balance_due`). Money that covers a "
    "held booking's deposit confirms it. `Idempotency-Key` honoured: a retried request records once.",
)
_desk_route(
    LedgerKind.REFUND,
    "desk-refunds",
    "Record money handed back at the desk (staff)",
    "At most what the desk took and has not handed back (422 `exceeds_desk_paid`). `Idempotency-Key` "
    "honoured.",
)
