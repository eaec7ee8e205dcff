"""All SQL of the business-types domain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Text, bindparam, cast, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.business_types.models import BusinessType
from booklnk.db.pagination import fetch_page


async def upsert_from_files(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Insert or refresh file-defined types; never overwrite one an admin created through
    the API. Returns the keys written."""
    values = insert(BusinessType).values(list(rows))
    upsert = values.on_conflict_do_update(
        index_elements=[BusinessType.key],
        set_={col: values.excluded[col] for col in ("name", "mode", "source", "definition")},
        where=BusinessType.source != "api",
    ).returning(BusinessType.key)
    return list((await session.execute(upsert)).scalars())


async def get(session: AsyncSession, key: str) -> BusinessType | None:
    return await session.get(BusinessType, key)


_DEFINITION_TEXT = select(cast(BusinessType.definition, Text)).where(BusinessType.key == bindparam("key"))


async def get_definition_text(session: AsyncSession, key: str) -> str | None:
    """The stored definition as JSON text (jsonb's canonical rendering), unparsed."""
    return (await session.execute(_DEFINITION_TEXT, {"key": key})).scalar_one_or_none()


async def list_page(
    session: AsyncSession, *, cursor: str | None, limit: int
) -> tuple[list[BusinessType], str | None]:
    order = [BusinessType.key]
    return await fetch_page(session, select(BusinessType), order_by=order, cursor=cursor, limit=limit)
