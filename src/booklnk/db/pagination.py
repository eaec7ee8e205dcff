"""Keyset (cursor) pagination over any ordered select."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from booklnk.kernel.cursor import decode_cursor, encode_cursor
from booklnk.kernel.errors import ValidationFailed

MAX_PAGE_SIZE = 200


def _parse(column: InstrumentedAttribute[Any], raw: str) -> object:
    python_type = column.type.python_type
    try:
        if python_type is uuid.UUID:
            return uuid.UUID(raw)
        if python_type is datetime:
            return datetime.fromisoformat(raw)
        if python_type is date:
            return date.fromisoformat(raw)
        return python_type(raw)
    except (ValueError, TypeError) as exc:
        raise ValidationFailed.on(
            "query.cursor", "valid_cursor", "The cursor is not one this API issued."
        ) from exc


def _render(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


async def fetch_page(
    session: AsyncSession,
    stmt: Select[Any],
    *,
    order_by: Sequence[InstrumentedAttribute[Any]],
    cursor: str | None,
    limit: int,
) -> tuple[list[Any], str | None]:
    """One page of `stmt`'s entities in `order_by` order, and the cursor of the next page.

    `order_by` must end in a unique column (usually the id) so the order is total.
    """
    if cursor is not None:
        values = decode_cursor(cursor, arity=len(order_by))
        parsed = [_parse(col, raw) for col, raw in zip(order_by, values, strict=True)]
        stmt = stmt.where(tuple_(*order_by) > tuple_(*parsed))
    rows = list((await session.execute(stmt.order_by(*order_by).limit(limit + 1))).scalars().all())
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    next_cursor = encode_cursor([_render(getattr(last, col.key)) for col in order_by])
    return rows[:limit], next_cursor
