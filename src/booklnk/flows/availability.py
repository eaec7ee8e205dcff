"""What a customer can book in a window: free appointment slots, or, in a class business,
the sessions a seat booking would accept now."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking import availability
from booklnk.booking.classes import sessions
from booklnk.scheduling.availability import Openings, Slot
from booklnk.scheduling.intervals import Interval
from booklnk.tenancy.context import BusinessContext


@dataclass(frozen=True)
class Slots:
    offer: availability.Offer
    openings: Openings

    @cached_property
    def slots(self) -> list[Slot]:
        """The openings one by one (spelled out on first use: the compact answer never is)."""
        return self.openings.slots()


@dataclass(frozen=True, slots=True)
class Sessions:
    sessions: list[sessions.SessionView]


async def search(
    session: AsyncSession,
    ctx: BusinessContext,
    *,
    service_id: uuid.UUID,
    staff_id: uuid.UUID | None,
    duration_minutes: int | None,
    window: Interval,
    now: datetime,
) -> Slots | Sessions:
    if ctx.rules.mode == "class":
        found = await sessions.list_sessions(
            session, ctx, start=window.start, end=window.end, service_id=service_id, bookable_at=now
        )
        return Sessions(found.views)
    offer, openings = await availability.search(
        session,
        ctx,
        service_id=service_id,
        staff_id=staff_id,
        duration_minutes=duration_minutes,
        window=window,
        now=now,
    )
    return Slots(offer, openings)
