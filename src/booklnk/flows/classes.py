"""Calling classes off: a session or a series cancelled, and every paid seat refunded in
full, in one transaction (the business cancelled, so the customer is owed all of it)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking.classes import series, sessions
from booklnk.booking.classes.models import ClassSeries
from booklnk.payments import cancellations
from booklnk.tenancy.context import BusinessContext


async def cancel_session(
    session: AsyncSession,
    ctx: BusinessContext,
    session_id: uuid.UUID,
    *,
    expected_version: int | None,
    now: datetime,
) -> sessions.SessionView:
    view, cancelled = await sessions.cancel_session(
        session, ctx, session_id, expected_version=expected_version, now=now
    )
    await _refund_in_full(session, ctx, cancelled)
    return view


async def cancel_series(
    session: AsyncSession,
    ctx: BusinessContext,
    series_id: uuid.UUID,
    *,
    expected_version: int | None,
    now: datetime,
) -> ClassSeries:
    cancelled_series, cancelled = await series.cancel_series(
        session, ctx, series_id, expected_version=expected_version, now=now
    )
    await _refund_in_full(session, ctx, cancelled)
    return cancelled_series


async def _refund_in_full(session: AsyncSession, ctx: BusinessContext, booking_ids: list[uuid.UUID]) -> None:
    """What each booking paid goes back in full, its refund intent recorded in the
    cancelling transaction (bookings that paid nothing online: none)."""
    for booking_id in booking_ids:
        await cancellations.refund_cancellation(
            session, ctx.business_id, booking_id, by="business", refund_percent=100
        )
