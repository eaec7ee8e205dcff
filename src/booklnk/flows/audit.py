"""A business's audit log as its owners read it: the changes recorded by `audit.log` and
the booking status changes the booking aggregate keeps, merged, newest first."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.kernel.cursor import decode_cursor, encode_cursor
from booklnk.kernel.errors import ValidationFailed
from booklnk.tenancy.context import BusinessContext


@dataclass(frozen=True, slots=True)
class Entry:
    at: datetime
    actor_id: uuid.UUID | None
    action: str
    subject_type: str
    subject_id: str | None
    booking_id: uuid.UUID | None
    details: dict[str, Any]


# Each source is read newest first from its own index, at most a page past the cursor;
# then the two are merged. `source` ('a' audit, 'b' booking) breaks ties between rows of
# one instant with the row's own id, so the order (and the cursor) is total.
_PAGE = """
    SELECT * FROM (
        (SELECT changed_at AS at, 'b' AS source, id, actor_id, 'booking.' || action AS action,
                'booking' AS subject_type, booking_id::text AS subject_id, booking_id,
                jsonb_build_object('from', from_status, 'to', to_status) AS details
         FROM booking_status_change
         WHERE business_id = :business_id {booking} AND (changed_at, 'b', id) < (:at, :source, :id)
         ORDER BY changed_at DESC, id DESC LIMIT :limit)
        UNION ALL
        (SELECT at, 'a' AS source, id, actor_id, action, subject_type, subject_id, booking_id, details
         FROM audit_event
         WHERE business_id = :business_id {booking} AND (at, 'a', id) < (:at, :source, :id)
         ORDER BY at DESC, id DESC LIMIT :limit)
    ) merged
    ORDER BY at DESC, source DESC, id DESC LIMIT :limit
"""
_ALL = text(_PAGE.format(booking=""))
_OF_BOOKING = text(_PAGE.format(booking="AND booking_id = :booking_id"))
_END_OF_TIME = datetime.fromisoformat("9999-12-31T00:00:00+00:00")


async def entries(
    session: AsyncSession,
    ctx: BusinessContext,
    *,
    booking_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Entry], str | None]:
    params: dict[str, Any] = {
        "business_id": ctx.business_id,
        "booking_id": booking_id,
        "limit": limit + 1,
        **_after(cursor),
    }
    rows = list(await session.execute(_ALL if booking_id is None else _OF_BOOKING, params))
    page, more = rows[:limit], len(rows) > limit
    next_cursor = (
        encode_cursor([page[-1].at.isoformat(), page[-1].source, str(page[-1].id)]) if more else None
    )
    return [
        Entry(row.at, row.actor_id, row.action, row.subject_type, row.subject_id, row.booking_id, row.details)
        for row in page
    ], next_cursor


def _after(cursor: str | None) -> dict[str, Any]:
    if cursor is None:
        return {"at": _END_OF_TIME, "source": "z", "id": 0}
    at, source, row_id = decode_cursor(cursor, arity=3)
    try:
        return {"at": datetime.fromisoformat(at), "source": source, "id": int(row_id)}
    except ValueError:
        raise ValidationFailed.on(
            "query.cursor", "valid_cursor", "The cursor is not one this API issued."
        ) from None
