"""Keyset (cursor) pagination over any ordered select."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypeVarTuple

from sqlalchemy import Row, Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from booklnk.kernel.cursor import decode_cursor, encode_cursor
from booklnk.kernel.errors import ValidationFailed

MAX_PAGE_SIZE = 200
_Ts = TypeVarTuple("_Ts")


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


def _entity_of(row: Row[*tuple[Any, ...]], column: InstrumentedAttribute[Any]) -> object:
    """The entity in `row` that `column` belongs to (a row may join several)."""
    owner = column.class_
    if not isinstance(owner, type):  # an aliased entity: pages are keyed on plain ones
        raise TypeError(f"{column} is not a mapped class's column")
    return next(item for item in row if isinstance(item, owner))


async def fetch_rows_page(
    session: AsyncSession,
    stmt: Select[*_Ts],
    *,
    order_by: Sequence[InstrumentedAttribute[Any]],
    cursor: str | None,
    limit: int,
    descending: bool = False,
) -> tuple[list[Row[*_Ts]], str | None]:
    """One page of `stmt`'s rows in `order_by` order (all ascending, or all descending),
    and the cursor of the next page.

    `order_by` must end in a unique column (usually the id) so the order is total; its
    columns may belong to any entity the select returns.
    """
    key = tuple_(*order_by)
    if cursor is not None:
        values = decode_cursor(cursor, arity=len(order_by))
        after = tuple_(*[_parse(col, raw) for col, raw in zip(order_by, values, strict=True)])
        stmt = stmt.where(key < after if descending else key > after)
    ordering = [col.desc() for col in order_by] if descending else list(order_by)
    rows = list((await session.execute(stmt.order_by(*ordering).limit(limit + 1))).all())
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    next_cursor = encode_cursor([_render(getattr(_entity_of(last, col), col.key)) for col in order_by])
    return rows[:limit], next_cursor


async def fetch_page(
    session: AsyncSession,
    stmt: Select[Any],
    *,
    order_by: Sequence[InstrumentedAttribute[Any]],
    cursor: str | None,
    limit: int,
    descending: bool = False,
) -> tuple[list[Any], str | None]:
    """`fetch_rows_page` for a select of one entity: the entities themselves."""
    rows, next_cursor = await fetch_rows_page(
        session, stmt, order_by=order_by, cursor=cursor, limit=limit, descending=descending
    )
    return [row[0] for row in rows], next_cursor
