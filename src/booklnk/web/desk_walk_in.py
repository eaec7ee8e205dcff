"""The front desk's walk-in and its money: someone at the counter is booked in three taps
(service, staff or anyone, then who: a customer record found by name or number, a new one
by number, or just a name), starting now; what they pay at the desk is recorded against
the booking (cash or the card terminal), the amount due offered first."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from booklnk.booking import service as booking_service
from booklnk.catalog import service as catalog
from booklnk.customers import service as customers
from booklnk.customers.errors import CustomerExists
from booklnk.customers.schemas import CustomerCreate
from booklnk.flows import bookings as booking_flows
from booklnk.kernel.errors import ValidationFailed
from booklnk.kernel.money import MINOR_UNITS
from booklnk.payments.models import DeskMethod, LedgerKind
from booklnk.tenancy.context import BusinessContext
from booklnk.tenancy.models import Role
from booklnk.tenancy.service import access_business
from booklnk.web import rendering
from booklnk.web.guard import (
    FormDep,
    SessionDep,
    SignedInDep,
    WebRoute,
    language_of,
    now_of,
    parse_uuid,
    see_other,
)
from booklnk.web.words import field_rule

router = APIRouter(route_class=WebRoute, include_in_schema=False)
FOUND_LIMIT = 10


@router.get("/desk/{business_id}/walk-in")
async def walk_in_page(
    request: Request,
    business_id: uuid.UUID,
    tx: SessionDep,
    actor: SignedInDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    ctx = await access_business(tx, actor, business_id, require=Role.STAFF)
    found: list[customers.CustomerView] = []
    if q and q.strip():
        found, _ = await customers.search(tx, ctx, customers.Search(query=q.strip(), limit=FOUND_LIMIT))
    return await _form(request, tx, ctx, found=found, query=q or "", errors={}, posted={})


@router.post("/desk/{business_id}/walk-in")
async def walk_in(
    request: Request, business_id: uuid.UUID, tx: SessionDep, actor: SignedInDep, posted: FormDep
) -> Response:
    language, now = language_of(request), now_of(request)
    ctx = await access_business(tx, actor, business_id, require=Role.STAFF)
    service_id = parse_uuid(posted.get("service"))
    if service_id is None:
        raise ValidationFailed.on("form.service", "required", "Choose a service.")
    record_id = parse_uuid(posted.get("record"))
    name, phone = posted.get("name", "").strip(), posted.get("phone", "").strip()
    if record_id is None and phone:
        try:
            fields = CustomerCreate.model_validate({"name": name or phone, "phone": phone})
        except ValidationError as invalid:
            errors = {"phone": field_rule(language, invalid.errors()[0]["type"])}
            return await _form(
                request, tx, ctx, found=[], query="", errors=errors, posted=posted, status_code=422
            )
        try:
            view = await customers.add(tx, ctx, fields.model_dump(exclude_unset=True), now=now)
            record_id = view.record.id
        except CustomerExists as exists:
            record_id = uuid.UUID(str(exists.extra["customer_id"]))
    if record_id is None and not name:
        errors = {"name": field_rule(language, "missing")}
        return await _form(
            request, tx, ctx, found=[], query="", errors=errors, posted=posted, status_code=422
        )
    new = booking_service.NewBooking(
        service_id=service_id,
        starts_at=None,
        staff_id=parse_uuid(posted.get("staff")),
        customer_record_id=record_id,
        guest_name=None if record_id else name,
        walk_in=True,
    )
    detail = await booking_flows.create(tx, ctx, new, now=now)
    return see_other(f"/{language}/desk/{business_id}/bookings/{detail.booking.id}?done=walk_in")


@router.post("/desk/{business_id}/bookings/{booking_id}/payments")
async def take_payment(
    request: Request,
    business_id: uuid.UUID,
    booking_id: uuid.UUID,
    tx: SessionDep,
    actor: SignedInDep,
    posted: FormDep,
) -> Response:
    language = language_of(request)
    ctx = await access_business(tx, actor, business_id, require=Role.STAFF)
    current = await booking_flows.get(tx, ctx, booking_id)
    method = posted.get("method", "")
    if method not in {m.value for m in DeskMethod}:
        raise ValidationFailed.on("form.method", "one_of", "Choose cash or the card terminal.")
    amount = minor_units(posted.get("amount", ""), current.money.currency)
    await booking_flows.record_at_desk(
        tx,
        ctx,
        booking_id,
        kind=LedgerKind.CAPTURE,
        amount_minor=amount,
        method=DeskMethod(method),
        now=now_of(request),
    )
    return see_other(f"/{language}/desk/{business_id}/bookings/{booking_id}?done=paid")


def minor_units(typed: str, currency: str) -> int:
    """An amount as the desk types it ("150", "150.50", or in Arabic-Indic digits) in minor
    units; 422 naming the field for anything else (no sign, no exponent, no grouping comma,
    no more decimals than the currency has, at most ten digits before the point)."""
    exponent = MINOR_UNITS.get(currency, 2)
    digits = typed.strip().translate(_ARABIC_DIGITS)
    if not re.fullmatch(rf"[0-9]{{1,10}}(\.[0-9]{{1,{exponent}}})?", digits) or not int(
        Decimal(digits).scaleb(exponent)
    ):
        raise ValidationFailed.on("form.amount", "amount", "Type an amount such as 150 or 150.50.")
    return int(Decimal(digits).scaleb(exponent))


_ARABIC_DIGITS = str.maketrans("".join(chr(0x0660 + d) for d in range(10)) + "\u066b", "0123456789.")


async def _form(
    request: Request,
    tx: SessionDep,
    ctx: BusinessContext,
    *,
    found: list[customers.CustomerView],
    query: str,
    errors: dict[str, str],
    posted: dict[str, str],
    status_code: int = 200,
) -> Response:
    services, _ = await catalog.list_bookable_services(tx, ctx, cursor=None, limit=50)
    staff, _ = await catalog.list_staff(tx, ctx, catalog.Listing(cursor=None, limit=100))
    return rendering.page(
        request,
        language_of(request),
        "desk_walk_in.html",
        status_code=status_code,
        services=[v.service for v in services],
        staff=staff,
        found=found,
        query=query,
        errors=errors,
        posted=posted,
        base=f"/{language_of(request)}/desk/{ctx.business_id}",
    )
