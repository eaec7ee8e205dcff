"""All SQL of the business-types domain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.business_types.models import BusinessType


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


async def list_all(session: AsyncSession) -> Sequence[BusinessType]:
    return (await session.execute(select(BusinessType).order_by(BusinessType.key))).scalars().all()
