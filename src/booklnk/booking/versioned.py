"""The one compare-and-swap of the aggregate's versioned rows (a booking, a class session,
a class series): write only if the row is still at the version it was read at.

The writer decided from what it read; if someone else changed the row since, the
version differs, nothing is written, and the caller re-reads (or answers 409/412).
Every write bumps the version, so a concurrent writer sees the change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Update, func, update
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking.classes.models import ClassSeries, ClassSession
from booklnk.booking.models import Booking

Versioned = Booking | ClassSession | ClassSeries


def swap(model: type[Versioned], row: Versioned, values: Mapping[str, Any]) -> Update:
    """`UPDATE … SET values, version + 1 WHERE` the row is still at `row.version`; the
    caller adds what it returns (the new version, or more for a statement around it)."""
    return (
        update(model)
        .where(model.business_id == row.business_id, model.id == row.id, model.version == row.version)
        .values(**values, version=model.version + 1, updated_at=func.now())
        .execution_options(synchronize_session=False)
    )


async def compare_and_swap(
    session: AsyncSession, model: type[Versioned], row: Versioned, values: Mapping[str, Any]
) -> int | None:
    """Write `values` if `row` is unchanged since it was read: the new version, or None
    when someone else changed it first."""
    result = await session.execute(swap(model, row, values).returning(model.version))
    version: int | None = result.scalar_one_or_none()
    return version
