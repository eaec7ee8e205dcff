"""What a booking's money looks like: derived from the ledger, never stored as a balance.
Gateway money and money taken at the desk count alike."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking.models import Booking, BookingStatus
from booklnk.db.database import set_tenant
from booklnk.payments.models import LedgerChannel, LedgerEntry, LedgerKind, PaymentAttempt, RefundIntent


@dataclass(frozen=True, slots=True)
class Totals:
    """What the ledger holds for one booking, in minor units."""

    captured_minor: int = 0
    refunded_minor: int = 0
    desk_captured_minor: int = 0
    desk_refunded_minor: int = 0

    @property
    def paid_minor(self) -> int:
        """Taken and not given back."""
        return self.captured_minor - self.refunded_minor

    @property
    def desk_paid_minor(self) -> int:
        return self.desk_captured_minor - self.desk_refunded_minor


@dataclass(frozen=True, slots=True)
class Money:
    """A booking's money as its customer and the front desk see it."""

    price_minor: int
    deposit_minor: int
    paid_minor: int
    refunded_minor: int
    balance_due_minor: int
    currency: str


def money_of(booking: Booking, totals: Totals) -> Money:
    """Price, what was asked up front, what was paid (net) and refunded, and what is still
    due: nothing on a booking that no longer stands (cancelled or expired)."""
    stands = booking.status not in (BookingStatus.CANCELLED, BookingStatus.EXPIRED)
    due = max(0, booking.price_minor - totals.paid_minor) if stands else 0
    return Money(
        booking.price_minor,
        booking.deposit_minor,
        totals.paid_minor,
        totals.refunded_minor,
        due,
        booking.currency,
    )


async def totals(
    session: AsyncSession, business_id: uuid.UUID, booking_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Totals]:
    """Each booking's ledger sums, in one query (a booking with no money has no entry)."""
    if not booking_ids:
        return {}
    rows = await session.execute(
        select(
            LedgerEntry.booking_id, LedgerEntry.kind, LedgerEntry.channel, func.sum(LedgerEntry.amount_minor)
        )
        .where(
            LedgerEntry.business_id == business_id,
            LedgerEntry.booking_id.in_(list(booking_ids)),
            LedgerEntry.kind.in_([LedgerKind.CAPTURE, LedgerKind.REFUND]),
        )
        .group_by(LedgerEntry.booking_id, LedgerEntry.kind, LedgerEntry.channel)
    )
    sums: dict[uuid.UUID, dict[str, int]] = {}
    for booking_id, kind, channel, total in rows:
        found = sums.setdefault(booking_id, {})
        name = "captured_minor" if kind is LedgerKind.CAPTURE else "refunded_minor"
        found[name] = found.get(name, 0) + int(total)
        if channel is LedgerChannel.DESK:
            found[f"desk_{name}"] = int(total)
    return {booking_id: Totals(**found) for booking_id, found in sums.items()}


async def totals_across(session: AsyncSession, bookings: Sequence[Booking]) -> dict[uuid.UUID, Totals]:
    """`totals` for bookings of several businesses (a customer's own list): the ledger is
    readable only inside its tenant, so each business is entered in turn, one query each."""
    by_business: dict[uuid.UUID, list[uuid.UUID]] = {}
    for booking in bookings:
        by_business.setdefault(booking.business_id, []).append(booking.id)
    found: dict[uuid.UUID, Totals] = {}
    for business_id, booking_ids in by_business.items():
        await set_tenant(session, business_id)
        found.update(await totals(session, business_id, booking_ids))
    return found


@dataclass(frozen=True, slots=True)
class Balance:
    currency: str
    totals: Totals
    attempts: list[PaymentAttempt]
    refunds: list[RefundIntent]
    desk: list[LedgerEntry]


async def balance(session: AsyncSession, booking: Booking) -> Balance:
    """A booking's money in detail: sums, gateway attempts, refunds, desk entries."""
    business_id, booking_id = booking.business_id, booking.id
    found = (await totals(session, business_id, [booking_id])).get(booking_id, Totals())
    attempts = (
        await session.execute(
            select(PaymentAttempt)
            .where(PaymentAttempt.business_id == business_id, PaymentAttempt.booking_id == booking_id)
            .order_by(PaymentAttempt.created_at)
        )
    ).scalars()
    refunds = (
        await session.execute(
            select(RefundIntent)
            .where(RefundIntent.business_id == business_id, RefundIntent.booking_id == booking_id)
            .order_by(RefundIntent.created_at)
        )
    ).scalars()
    desk = (
        await session.execute(
            select(LedgerEntry)
            .where(
                LedgerEntry.business_id == business_id,
                LedgerEntry.booking_id == booking_id,
                LedgerEntry.channel == LedgerChannel.DESK,
            )
            .order_by(LedgerEntry.created_at, LedgerEntry.id)
        )
    ).scalars()
    return Balance(booking.currency, found, list(attempts), list(refunds), list(desk))


async def recent(
    session: AsyncSession, business_id: uuid.UUID, *, since: datetime, limit: int
) -> list[LedgerEntry]:
    """The business's money movements since `since`, newest first (the owner's money page)."""
    rows = await session.execute(
        select(LedgerEntry)
        .where(LedgerEntry.business_id == business_id, LedgerEntry.created_at >= since)
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id)
        .limit(limit)
    )
    return list(rows.scalars())


async def desk_takings(session: AsyncSession, business_id: uuid.UUID, *, since: datetime) -> dict[str, int]:
    """What the desk took since `since`, less what it handed back, per desk method."""
    signed = case(
        (LedgerEntry.kind == LedgerKind.REFUND, -LedgerEntry.amount_minor), else_=LedgerEntry.amount_minor
    )
    rows = await session.execute(
        select(LedgerEntry.desk_method, func.sum(signed))
        .where(
            LedgerEntry.business_id == business_id,
            LedgerEntry.channel == LedgerChannel.DESK,
            LedgerEntry.kind.in_([LedgerKind.CAPTURE, LedgerKind.REFUND]),
            LedgerEntry.created_at >= since,
        )
        .group_by(LedgerEntry.desk_method)
    )
    return {method.value: int(total) for method, total in rows if method is not None}
