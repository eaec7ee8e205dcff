"""The customer's browser comes back from the payment page: show, never decide."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking import repository as booking_repository
from booklnk.db.database import set_tenant
from booklnk.kernel.errors import NotFound, ValidationFailed
from booklnk.payments.errors import WebhookRejected
from booklnk.payments.kashier.signing import verify_redirect
from booklnk.payments.models import AttemptStatus, PaymentAttempt, PaymentOrder
from booklnk.payments.schemas import PaymentReturnOut

Outcome = Literal["paid", "pending", "failed"]
# What Kashier's signed redirect may say of a payment that did not go through (PROTOCOL.md §2).
_NOT_PAID = frozenset({"FAILURE", "CANCELLED", "CANCELED", "EXPIRED"})


class RedirectRejected(WebhookRejected):
    code = "redirect_rejected"


@dataclass(frozen=True, slots=True)
class Returned:
    shown: PaymentReturnOut
    location: str | None  # the client's page to send the browser to; None: answer with `shown`


def outcome(attempt_status: AttemptStatus, payment_status: str) -> Outcome:
    """What to tell the client's page. `paid` only once the webhook recorded the money (the
    browser often comes back first: then `pending`, and the page may poll the booking); a
    failure the verified redirect reports is shown at once, since nothing was taken."""
    if attempt_status is AttemptStatus.PAID:
        return "paid"
    if attempt_status is AttemptStatus.FAILED:
        return "failed"
    if attempt_status is AttemptStatus.STARTED and payment_status.upper() in _NOT_PAID:
        return "failed"
    return "pending"


def location(
    return_url: str | None, cancel_url: str | None, booking_id: uuid.UUID, result: Outcome
) -> str | None:
    """The stored page for this outcome (a failure goes to `cancel_url` when there is one)
    with `booking_id` and `outcome` added to its own
    query (ours replace any of the same name); None without a return page."""
    target = (cancel_url or return_url) if result == "failed" else return_url
    if target is None:
        return None
    split = urlsplit(target)
    ours = {"booking_id": str(booking_id), "outcome": result}
    query = [(k, v) for k, v in parse_qsl(split.query, keep_blank_values=True) if k not in ours]
    return urlunsplit(split._replace(query=urlencode([*query, *ours.items()])))


async def describe(session: AsyncSession, api_key: str, params: Mapping[str, str]) -> Returned:
    """The booking as it stands now, for a verified redirect (401 otherwise). The redirect's
    own `paymentStatus` is only echoed: the webhook, not the browser, moves money."""
    for name in ("merchantOrderId", "signature"):
        if not params.get(name):
            raise ValidationFailed.on(f"query.{name}", "required", "Not a Kashier redirect.")
    if not verify_redirect(api_key, params):
        raise RedirectRejected("The redirect's signature does not verify.")
    order_id = params.get("merchantOrderId", "")
    order = await session.get(PaymentOrder, order_id)
    if order is None:
        raise NotFound("No such payment.")
    await set_tenant(session, order.business_id)
    stmt = select(PaymentAttempt).where(
        PaymentAttempt.business_id == order.business_id, PaymentAttempt.order_id == order_id
    )
    attempt = (await session.execute(stmt)).scalar_one()
    booking = await booking_repository.get_booking(session, order.business_id, attempt.booking_id)
    if booking is None:
        raise NotFound("No such payment.")
    shown = PaymentReturnOut(
        order_id=order_id,
        payment_status=params.get("paymentStatus", ""),
        attempt_status=attempt.status,
        booking_id=booking.id,
        booking_status=booking.status,
    )
    result = outcome(attempt.status, shown.payment_status)
    # Only the URLs stored on the attempt at checkout: nothing in the query picks the target.
    return Returned(shown, location(attempt.return_url, attempt.cancel_url, booking.id, result))
