"""Kashier checkout, its server-to-server webhooks and the customer's browser return."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response, status
from fastapi.responses import JSONResponse, RedirectResponse

from booklnk.api import limits
from booklnk.api.created import CreatedDep
from booklnk.api.deps import MemberOrCustomerCtx, NowDep, OwnerCtx, SessionDep, SettingsDep
from booklnk.api.idempotent import IdempotencyKeyHeader, create_once
from booklnk.api.languages import caller_language
from booklnk.api.observability import WEBHOOKS_RECEIVED
from booklnk.api.pagination import PAGED, CursorQuery, LimitQuery, Page
from booklnk.api.problems import problem_responses
from booklnk.bootstrap import KASHIER_WEBHOOK_PATH, RETURN_PATH, checkout_callbacks, kashier_config
from booklnk.flows import bookings as flows
from booklnk.payments import checkout, reconciliation, returns, webhooks
from booklnk.payments.schemas import (
    AttemptOut,
    BookingPaymentsOut,
    CheckoutIn,
    CheckoutOut,
    DeskEntryOut,
    KashierPageOut,
    MismatchOut,
    PaymentReturnOut,
    ReconciliationRunOut,
    RefundIn,
    RefundOut,
    WebhookAck,
)

router = APIRouter(tags=["payments"])


@router.post(
    "/v1/businesses/{business_id}/bookings/{booking_id}/payments",
    summary="Pay for a booking online (Kashier hosted page)",
    description="Writes a payment attempt with its own order id, then returns the hosted payment page's "
    "URL. A held booking pays what it needs to be confirmed (its deposit or price; 409 "
    "`booking_not_payable` if its hold lapsed or it is paid); a booking that stands (paid at the venue, or a "
    "deposit's remainder) may pay what is still due (`purpose: balance`; 409 `booking_not_payable` when "
    "nothing is). 404 `booking_not_found`. `Idempotency-Key` works as for bookings. "
    "The page speaks `display` (else the best of `Accept-Language`: `ar` or `en`); `kashier` carries the "
    "same payment's parameters for Kashier's iframe and mobile SDKs (the hash is computed here; no key "
    "leaves the server).",
    status_code=status.HTTP_201_CREATED,
    response_model=CheckoutOut,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def start_checkout(
    booking_id: uuid.UUID,
    body: CheckoutIn,
    ctx: MemberOrCustomerCtx,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    created: CreatedDep,
    idempotency_key: IdempotencyKeyHeader = None,
    accept_language: Annotated[
        str | None, Header(description="The hosted page's language, unless `display` names one.")
    ] = None,
) -> CheckoutOut | JSONResponse:
    callbacks = checkout_callbacks(settings)

    async def create() -> CheckoutOut:
        started = await checkout.start(
            session,
            ctx,
            booking_id,
            body.method,
            kashier=kashier_config(settings),
            callbacks=callbacks,
            now=now,
            display=body.display or caller_language(accept_language),
            pages=checkout.ReturnPages(return_url=body.return_url, cancel_url=body.cancel_url),
        )
        attempt = started.attempt
        return CheckoutOut(
            payment_id=attempt.id,
            order_id=attempt.order_id,
            booking_id=attempt.booking_id,
            method=attempt.method,
            amount_minor=attempt.amount_minor,
            currency=attempt.currency,
            status=attempt.status,
            purpose=attempt.purpose,
            url=started.url,
            kashier=KashierPageOut.model_validate(started.page, from_attributes=True),
        )

    # (The attempt is read with the booking's payments.)
    payments = f"/v1/businesses/{ctx.business_id}/bookings/{booking_id}/payments"
    return await create_once(
        session, ctx, idempotency_key, body, create, now=now, created=created, location=lambda _: payments
    )


@router.get(
    "/v1/businesses/{business_id}/bookings/{booking_id}/payments",
    summary="A booking's payments, refunds and balance (its customer, or the business)",
    description="The amounts are sums over the append-only ledger, never a stored balance. 404 "
    "`booking_not_found`.",
    response_model=BookingPaymentsOut,
    responses=problem_responses(401, 403, 404),
)
async def booking_payments(
    booking_id: uuid.UUID, ctx: MemberOrCustomerCtx, session: SessionDep
) -> BookingPaymentsOut:
    found = await flows.payments_of(session, ctx, booking_id)
    return BookingPaymentsOut(
        booking_id=booking_id,
        currency=found.currency,
        captured_minor=found.totals.captured_minor,
        refunded_minor=found.totals.refunded_minor,
        paid_minor=found.totals.paid_minor,
        desk_paid_minor=found.totals.desk_paid_minor,
        attempts=[AttemptOut.model_validate(a) for a in found.attempts],
        refunds=[RefundOut.model_validate(r) for r in found.refunds],
        desk=[DeskEntryOut.model_validate(e) for e in found.desk],
    )


@router.post(
    "/v1/businesses/{business_id}/bookings/{booking_id}/refunds",
    summary="Refund a paid booking, in full or in part (owner)",
    description="Recorded at once and sent to Kashier by the worker, never twice; Kashier's refund webhook "
    "settles it. More than was captured (less what is already being refunded) answers 422; nothing left "
    "to refund, 409 `nothing_to_refund`; 404 `booking_not_found`. "
    "`Idempotency-Key` works as for checkout: a retried request refunds once.",
    status_code=status.HTTP_201_CREATED,
    response_model=RefundOut,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def refund_booking(
    booking_id: uuid.UUID,
    body: RefundIn,
    ctx: OwnerCtx,
    session: SessionDep,
    now: NowDep,
    created: CreatedDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> RefundOut | JSONResponse:
    async def create() -> RefundOut:
        intent = await flows.refund(
            session, ctx, booking_id, amount_minor=body.amount_minor, reason=body.reason
        )
        return RefundOut.model_validate(intent)

    payments = f"/v1/businesses/{ctx.business_id}/bookings/{booking_id}/payments"
    return await create_once(
        session, ctx, idempotency_key, body, create, now=now, created=created, location=lambda _: payments
    )


@router.post(
    KASHIER_WEBHOOK_PATH,
    summary="Kashier's server-to-server webhook",
    description="Verified against the Payment API key (`x-kashier-signature`), stored once per distinct "
    "event and acknowledged; its effect is applied by the worker. Unsigned or wrongly signed: 401 "
    "`webhook_rejected`, nothing recorded. Rate-limited per client address, but a delivery whose "
    "signature verifies is never refused: past the limit, others answer 429 `too_many_requests` with "
    "`Retry-After`.",
    response_model=WebhookAck,
    responses=problem_responses(401, 413, 422, 429),
    openapi_extra={"security": []},
    dependencies=[Depends(limits.webhook_limited)],
)
async def receive_webhook(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    x_kashier_signature: Annotated[str | None, Header()] = None,
) -> WebhookAck:
    event, data = webhooks.parse(await request.body())
    webhooks.verify(settings.kashier_api_key.get_secret_value(), data, x_kashier_signature)
    received = await webhooks.record(session, event, data)
    duplicate = received.delivery_id is None and not received.ignored
    outcome = "ignored" if received.ignored else "duplicate" if duplicate else "new"
    WEBHOOKS_RECEIVED.labels(event if event in webhooks.EVENTS else "other", outcome).inc()
    return WebhookAck(duplicate=duplicate, ignored=received.ignored)


@router.get(
    RETURN_PATH,
    summary="Where Kashier sends the customer back",
    description="Verifies the redirect's signature; it never confirms anything (the webhook does). When "
    "checkout was given a `return_url`, answers 303 to it (a failed or cancelled payment: to `cancel_url` "
    "if given) with `booking_id` and `outcome` (`paid` once the payment is recorded, `pending` until then, "
    "`failed`) added to its query; only URLs stored with the attempt are used. Without one, shows the "
    "booking as it stands (200). A signature that does not verify answers 401 `redirect_rejected`; a "
    "payment this service never started, 404 `not_found`.",
    response_model=PaymentReturnOut,
    responses={
        **problem_responses(401, 404, 422),
        303: {
            "description": "Back to the client's page given at checkout.",
            "headers": {
                "Location": {
                    "description": "`return_url` or `cancel_url` with `booking_id` and `outcome` added.",
                    "schema": {"type": "string", "format": "uri"},
                }
            },
        },
    },
    openapi_extra={"security": []},
)
async def payment_return(
    request: Request, session: SessionDep, settings: SettingsDep
) -> PaymentReturnOut | RedirectResponse:
    returned = await returns.describe(
        session, settings.kashier_api_key.get_secret_value(), request.query_params
    )
    if returned.location is not None:
        return RedirectResponse(returned.location, status_code=status.HTTP_303_SEE_OTHER)
    return returned.shown


@router.get(
    "/v1/businesses/{business_id}/reconciliation-runs",
    summary="Reconciliation runs, newest day first (owner)",
    description="Each day's comparison of the business's payments with Kashier (nightly, or "
    "`booklnk reconcile`): the local day, how many orders were checked, how many mismatches are "
    "still open. Running a day again updates its run. " + PAGED,
    response_model=Page[ReconciliationRunOut],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_reconciliation_runs(
    ctx: OwnerCtx, session: SessionDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> Page[ReconciliationRunOut]:
    runs, next_cursor = await reconciliation.runs(session, ctx.business_id, cursor=cursor, limit=limit)
    return Page(items=[ReconciliationRunOut.model_validate(r) for r in runs], next_cursor=next_cursor)


@router.get(
    "/v1/businesses/{business_id}/reconciliation-runs/{run_id}/mismatches",
    summary="What a reconciliation run found (owner); `Accept: text/csv` for a spreadsheet",
    description="Each mismatch: the order, its `kind` (money captured at Kashier and not recorded "
    "here or the other way round, amounts, currencies, refunds or statuses that differ, a refund "
    "refused or pending for over a day, a lookup that failed), what we hold and what Kashier "
    "reported, whether a lost webhook was healed from it, and when a later run found it resolved. "
    + PAGED
    + " The CSV holds the whole run (no pages). 404 `not_found` for a run this business does not have.",
    response_model=Page[MismatchOut],
    responses={
        **problem_responses(401, 403, 404, 422),
        200: {"content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}}}},
    },
)
async def list_mismatches(
    run_id: uuid.UUID,
    ctx: OwnerCtx,
    session: SessionDep,
    accept: Annotated[str | None, Header()] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[MismatchOut] | Response:
    spreadsheet = accept is not None and "text/csv" in accept
    found, next_cursor = await reconciliation.mismatches(
        session, ctx.business_id, run_id, cursor=cursor, limit=None if spreadsheet else limit
    )
    rows = [MismatchOut.model_validate(m) for m in found]
    if spreadsheet:
        return Response(_csv(rows), media_type="text/csv; charset=utf-8")
    return Page(items=rows, next_cursor=next_cursor)


def _csv(rows: list[MismatchOut]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["order_id", "kind", "ours", "gateway", "healed", "found_at", "resolved_at"])
    for row in rows:
        resolved = row.resolved_at.isoformat() if row.resolved_at else ""
        writer.writerow(
            [
                row.order_id,
                row.kind.value,
                row.ours,
                row.gateway,
                row.healed,
                row.found_at.isoformat(),
                resolved,
            ]
        )
    return out.getvalue()
