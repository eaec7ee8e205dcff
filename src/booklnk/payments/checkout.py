"""Starting a payment: an attempt row first, then the hosted payment page's URL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking import service as bookings
from booklnk.booking.models import BookingStatus
from booklnk.catalog import repository as catalog
from booklnk.kernel.errors import ValidationFailed
from booklnk.payments import ledger
from booklnk.payments.errors import BookingNotPayable
from booklnk.payments.kashier.client import hosted_page_url
from booklnk.payments.kashier.config import KashierConfig
from booklnk.payments.kashier.signing import format_amount, order_hash
from booklnk.payments.models import (
    AttemptPurpose,
    AttemptStatus,
    LedgerEntry,
    LedgerKind,
    PaymentAttempt,
    PaymentOrder,
)
from booklnk.tenancy import repository as tenancy
from booklnk.tenancy import return_origins
from booklnk.tenancy.context import BusinessContext

# Bookings that stand and may still owe money (paid online, at the venue's choice).
PAYABLE_WHILE_STANDING = frozenset(
    {BookingStatus.CONFIRMED, BookingStatus.CHECKED_IN, BookingStatus.COMPLETED}
)


@dataclass(frozen=True, slots=True)
class Callbacks:
    """Where Kashier sends the customer back and posts its webhooks."""

    redirect_url: str
    webhook_url: str


@dataclass(frozen=True, slots=True)
class ReturnPages:
    """The client's own pages for the customer's way back (each optional): `return_url`
    after paying, `cancel_url` after a failed or cancelled payment."""

    return_url: str | None = None
    cancel_url: str | None = None


@dataclass(frozen=True, slots=True)
class HostedPage:
    """What Kashier's hosted page, its iframe and its mobile SDKs take for one attempt
    (PROTOCOL.md §1). The hash signs merchant, order, amount text and currency with the
    Payment API key, server-side; it reveals no key and is safe to hand to the client."""

    merchant_id: str
    order_id: str
    amount: str  # major units, all the currency's decimals: "150.00"
    currency: str
    hash: str
    mode: str
    display: str
    allowed_methods: str
    merchant_redirect: str
    server_webhook: str


@dataclass(frozen=True, slots=True)
class Checkout:
    attempt: PaymentAttempt
    url: str
    page: HostedPage


async def accepted_methods(
    session: AsyncSession, ctx: BusinessContext, service_id: uuid.UUID
) -> tuple[str, ...]:
    """The methods a checkout of a booking of this service accepts: the business's rules as
    the service changes them (its own payment policy and methods), the service found even
    when it has since been taken off the booking page. Pages offer exactly these."""
    service = await catalog.get_service(session, ctx.business_id, service_id)
    return ctx.rules_for(service.payment_overrides if service is not None else None).payment_methods


async def start(
    session: AsyncSession,
    ctx: BusinessContext,
    booking_id: uuid.UUID,
    method: str,
    *,
    kashier: KashierConfig,
    callbacks: Callbacks,
    now: datetime,
    display: str = "en",
    pages: ReturnPages = ReturnPages(),
    method_field: str = "body.method",
) -> Checkout:
    """A new attempt (its own order id) for a booking: a held one pays what it needs to be
    confirmed (409 if its hold lapsed or it is paid); one that stands (pay at the venue,
    a deposit's remainder) may pay what is still due online (409 when nothing is).
    `display`: the hosted page's language (`ar` or `en`); `pages` must lead to the
    business's return origins (422 `return_url_not_allowed` otherwise). A method the
    service does not take is a 422 naming `method_field` (where the caller sent it)."""
    await _check_pages(session, ctx, pages, own=callbacks.redirect_url)
    booking = await bookings.get_booking(session, ctx, booking_id)
    if booking.status is BookingStatus.HELD:
        if booking.hold_expires_at is not None and booking.hold_expires_at <= now:
            raise BookingNotPayable("The hold has expired; book again.")
        if await _paid(session, ctx.business_id, booking_id):
            raise BookingNotPayable("The booking is already paid.")
        purpose, amount = AttemptPurpose.HOLD, booking.deposit_minor
    elif booking.status in PAYABLE_WHILE_STANDING:
        found = (await ledger.totals(session, ctx.business_id, [booking_id])).get(booking_id, ledger.Totals())
        purpose, amount = AttemptPurpose.BALANCE, ledger.money_of(booking, found).balance_due_minor
    else:
        raise BookingNotPayable(f"A {booking.status.value} booking takes no payment.")
    if amount <= 0:
        raise BookingNotPayable("Nothing is due on this booking.")
    methods = await accepted_methods(session, ctx, booking.service_id)
    if method not in methods:
        allowed = ", ".join(methods) or "none"
        raise ValidationFailed.on(method_field, "method_not_allowed", f"Choose one of: {allowed}.")
    attempt = PaymentAttempt(
        business_id=ctx.business_id,
        id=uuid.uuid4(),
        booking_id=booking_id,
        order_id=f"bk-{uuid.uuid4().hex}",
        method=method,
        amount_minor=amount,
        currency=booking.currency,
        status=AttemptStatus.STARTED,
        purpose=purpose,
        version=1,
        return_url=pages.return_url,
        cancel_url=pages.cancel_url,
    )
    session.add_all([attempt, PaymentOrder(order_id=attempt.order_id, business_id=ctx.business_id)])
    await session.flush()  # the attempt is stored before anyone sees its URL
    url = hosted_page_url(
        kashier,
        attempt.order_id,
        attempt.amount_minor,
        attempt.currency,
        [method],
        callbacks.redirect_url,
        callbacks.webhook_url,
        display=display,
    )
    return Checkout(attempt, url, _hosted_page(kashier, attempt, method, callbacks, display))


async def _check_pages(session: AsyncSession, ctx: BusinessContext, pages: ReturnPages, *, own: str) -> None:
    """Checked before anything is written: the browser return will redirect to these, so
    only the business's own origins are taken, and this deployment's (`own`: its web app's
    booking pages), never another (no open redirect through our domain)."""
    named = [("body.return_url", pages.return_url), ("body.cancel_url", pages.cancel_url)]
    if all(url is None for _, url in named):
        return
    business = await tenancy.get_business(session, ctx.business_id)
    ours = return_origins.origin_of(own)
    allowed = [*(business.return_origins if business is not None else []), *([ours] if ours else [])]
    for field, url in named:
        if url is not None and not return_origins.allows(allowed, url):
            raise ValidationFailed.on(
                field,
                "return_url_not_allowed",
                "Its origin is not one of the business's return origins (business settings).",
            )


def _hosted_page(
    kashier: KashierConfig, attempt: PaymentAttempt, method: str, callbacks: Callbacks, display: str
) -> HostedPage:
    amount = format_amount(attempt.amount_minor, attempt.currency)
    signed = order_hash(
        kashier.api_key.get_secret_value(), kashier.mid, attempt.order_id, amount, attempt.currency
    )
    return HostedPage(
        merchant_id=kashier.mid,
        order_id=attempt.order_id,
        amount=amount,
        currency=attempt.currency,
        hash=signed,
        mode=kashier.mode,
        display=display,
        allowed_methods=method,
        merchant_redirect=callbacks.redirect_url,
        server_webhook=callbacks.webhook_url,
    )


async def _paid(session: AsyncSession, business_id: uuid.UUID, booking_id: uuid.UUID) -> bool:
    """A paid attempt, or money captured and not all given back on any attempt (a flagged
    one too): another payment would take the customer's money twice."""
    stmt = select(PaymentAttempt.id).where(
        PaymentAttempt.business_id == business_id,
        PaymentAttempt.booking_id == booking_id,
        PaymentAttempt.status == AttemptStatus.PAID,
    )
    if (await session.execute(stmt.limit(1))).first() is not None:
        return True
    signed = case(
        (LedgerEntry.kind == LedgerKind.REFUND, -LedgerEntry.amount_minor), else_=LedgerEntry.amount_minor
    )
    net = await session.scalar(
        select(func.coalesce(func.sum(signed), 0)).where(
            LedgerEntry.business_id == business_id,
            LedgerEntry.booking_id == booking_id,
            LedgerEntry.kind.in_([LedgerKind.CAPTURE, LedgerKind.REFUND]),
        )
    )
    return int(net or 0) > 0
