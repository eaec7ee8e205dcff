"""The front desk's customers: search by any part of a name or number (Arabic spellings
folded), each record with its history (visits, upcoming, no-shows, late cancellations,
last visit, paid), its bookings, and the notes staff keep (saved against the record's
version, so two people at the desk cannot overwrite each other unseen)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from booklnk.booking import listing
from booklnk.customers import service as records
from booklnk.flows import customers as customer_flows
from booklnk.flows import described_bookings
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
    posted_version,
    see_other,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE = 30
NOTES_MAX = 2000


@router.get("/desk/{business_id}/customers")
async def customers_page(
    request: Request,
    business_id: uuid.UUID,
    tx: SessionDep,
    actor: SignedInDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    ctx = await access_business(tx, actor, business_id, require=Role.STAFF)
    search = records.Search(query=q.strip() if q else None, limit=PAGE)
    found, _ = await customer_flows.customers(tx, ctx, search, now=now_of(request))
    language = language_of(request)
    return rendering.page(
        request,
        language,
        "desk_customers.html",
        found=found,
        query=q or "",
        base=f"/{language}/desk/{business_id}",
    )


@router.get("/desk/{business_id}/customers/{record_id}")
async def customer_page(
    request: Request, business_id: uuid.UUID, record_id: uuid.UUID, tx: SessionDep, actor: SignedInDep
) -> Response:
    language = language_of(request)
    ctx = await access_business(tx, actor, business_id, require=Role.STAFF)
    detail = await customer_flows.customer(tx, ctx, record_id, now=now_of(request))
    window = listing.BookingFilter(customer_record_id=record_id)
    booked, _ = await described_bookings.of_business(tx, ctx, window, limit=PAGE)
    return rendering.page(
        request,
        language,
        "desk_customer.html",
        detail=detail,
        record=detail.view.record,
        history=detail.history,
        booked=booked,
        time_zone=ctx.time_zone,
        base=f"/{language}/desk/{business_id}",
    )


@router.post("/desk/{business_id}/customers/{record_id}")
async def save_notes(
    request: Request,
    business_id: uuid.UUID,
    record_id: uuid.UUID,
    tx: SessionDep,
    actor: SignedInDep,
    posted: FormDep,
) -> Response:
    ctx = await access_business(tx, actor, business_id, require=Role.STAFF)
    version = posted_version(posted)
    notes = posted.get("notes", "")[:NOTES_MAX]
    await records.change(tx, ctx, record_id, {"notes": notes}, expected_version=version)
    return see_other(f"/{language_of(request)}/desk/{business_id}/customers/{record_id}")
