"""A business's customer records (staff and owners): add, search, read and edit them.
Their bookings are listed by `GET /v1/businesses/{id}/bookings?customer_record_id=`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response, status

from booklnk.api.created import CreatedDep
from booklnk.api.deps import NowDep, SessionDep, StaffCtx
from booklnk.api.pagination import PAGED, CursorQuery, LimitQuery, Page
from booklnk.api.problems import problem_responses
from booklnk.api.representations import parse_if_match
from booklnk.customers import names
from booklnk.customers import service as records
from booklnk.customers.schemas import CustomerCreate, CustomerHistoryOut, CustomerOut, CustomerUpdate
from booklnk.flows import customers as flows

router = APIRouter(prefix="/v1/businesses/{business_id}/customers", tags=["customers"])
CustomerId = Annotated[uuid.UUID, Path(description="A customer record of this business.")]
IfMatchHeader = Annotated[str | None, Header(description="The record's ETag; 412 if it changed.")]
Q = Annotated[
    str | None,
    Query(
        max_length=names.MAX_QUERY,
        description="Any part of a name, number or e-mail. Arabic matches whatever the spelling of hamzas, "
        "alef maqsura, teh marbuta and vowel marks; numbers as 01… or +201…, in any digits.",
    ),
]
TagQuery = Annotated[str | None, Query(max_length=40, description="Only records with this tag.")]


def _out(detail: flows.CustomerDetail, response: Response | None = None) -> CustomerOut:
    view, record = detail.view, detail.view.record
    if response is not None:
        response.headers["ETag"] = f'"{record.version}"'
    history = detail.history
    return CustomerOut(
        id=record.id,
        account_id=record.user_id,
        name=view.name,
        phone=view.phone,
        email=record.email,
        notes=record.notes,
        tags=record.tags,
        marketing_consent=record.marketing_consent,
        version=record.version,
        created_at=record.created_at,
        history=CustomerHistoryOut(
            visits=history.visits,
            upcoming=history.upcoming,
            no_shows=history.no_shows,
            late_cancellations=history.late_cancellations,
            last_visit_at=history.last_visit_at,
            total_paid_minor=history.total_paid_minor,
            currency=history.currency,
        ),
    )


@router.post(
    "",
    summary="Add a customer record (staff and owners)",
    description="Someone who walks in or calls, without an account: a name, and if they give it their "
    "mobile (one record per number: 409 `customer_exists`, with the record's `customer_id`). When an account "
    "proves that number and books here, or staff book the record after it did, the record becomes the "
    "account's. Customers get 403 `insufficient_role`.",
    status_code=status.HTTP_201_CREATED,
    response_model=CustomerOut,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def add_customer(
    body: CustomerCreate,
    ctx: StaffCtx,
    session: SessionDep,
    now: NowDep,
    response: Response,
    created: CreatedDep,
) -> CustomerOut:
    view = await records.add(session, ctx, body.model_dump(), now=now)
    created.at_key(view.record.id)
    (detail,) = await flows.histories(session, ctx, [view], now=now)
    return _out(detail, response)


@router.get(
    "",
    summary="Find customers (staff and owners)",
    description="Every account that booked here and every record staff added, newest first, each with its "
    f"history here (visits, no-shows, late cancellations, money). `q` searches, `tag` filters. {PAGED}",
    response_model=Page[CustomerOut],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_customers(
    ctx: StaffCtx,
    session: SessionDep,
    now: NowDep,
    q: Q = None,
    tag: TagQuery = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[CustomerOut]:
    search = records.Search(query=q, tag=tag, cursor=cursor, limit=limit)
    details, next_cursor = await flows.customers(session, ctx, search, now=now)
    return Page(items=[_out(detail) for detail in details], next_cursor=next_cursor)


@router.get(
    "/{customer_id}",
    summary="Read a customer record with its history (staff and owners)",
    description="404 `customer_not_found` for a record not of this business. The `ETag` header carries its "
    "version. Its bookings: `GET /v1/businesses/{business_id}/bookings?customer_record_id=`.",
    response_model=CustomerOut,
    responses=problem_responses(401, 403, 404),
)
async def get_customer(
    customer_id: CustomerId, ctx: StaffCtx, session: SessionDep, now: NowDep, response: Response
) -> CustomerOut:
    return _out(await flows.customer(session, ctx, customer_id, now=now), response)


@router.patch(
    "/{customer_id}",
    summary="Change a customer record: notes, tags, consent, name, number (staff and owners)",
    description="Omitted fields stay as they are; `null` clears `phone`, `email`, and `name` on a record "
    "with an account (whose own name then shows). Send `If-Match` with the ETag you read: 412 "
    "`version_mismatch` if someone changed it since. 409 `customer_exists` for a number another record has; "
    "404 `customer_not_found` for a record not of this business.",
    response_model=CustomerOut,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
async def change_customer(
    customer_id: CustomerId,
    body: CustomerUpdate,
    ctx: StaffCtx,
    session: SessionDep,
    now: NowDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> CustomerOut:
    view = await records.change(
        session, ctx, customer_id, body.changes(), expected_version=parse_if_match(if_match)
    )
    (detail,) = await flows.histories(session, ctx, [view], now=now)
    return _out(detail, response)
