"""Storing and reading business-type definitions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.business_types.definition import BusinessTypeDefinition, EffectiveRules
from booklnk.business_types.errors import BusinessTypeExists, BusinessTypeNotFound
from booklnk.business_types.models import BusinessType
from booklnk.business_types.rules import resolve_rules


def _to_row(definition: BusinessTypeDefinition, source: str) -> dict[str, Any]:
    return {
        "key": definition.key,
        "name": definition.name,
        "mode": definition.mode,
        "source": source,
        "definition": definition.model_dump(mode="json"),
    }


async def sync_definitions(
    session: AsyncSession, definitions: Sequence[BusinessTypeDefinition], *, source: str
) -> None:
    """Upsert definitions read from files, so files stay the source of truth on each start."""
    if not definitions:
        return
    stmt = insert(BusinessType).values([_to_row(d, source) for d in definitions])
    stmt = stmt.on_conflict_do_update(
        index_elements=[BusinessType.key],
        set_={col: stmt.excluded[col] for col in ("name", "mode", "source", "definition")},
    )
    await session.execute(stmt)


async def get_definition(session: AsyncSession, key: str) -> BusinessTypeDefinition | None:
    row = await session.get(BusinessType, key)
    return BusinessTypeDefinition.model_validate(row.definition) if row else None


async def require_definition(session: AsyncSession, key: str) -> BusinessTypeDefinition:
    definition = await get_definition(session, key)
    if definition is None:
        raise BusinessTypeNotFound(f"No business type {key!r}.")
    return definition


async def list_definitions(session: AsyncSession) -> list[BusinessTypeDefinition]:
    rows = (await session.execute(select(BusinessType).order_by(BusinessType.key))).scalars()
    return [BusinessTypeDefinition.model_validate(r.definition) for r in rows]


async def create_definition(session: AsyncSession, definition: BusinessTypeDefinition) -> None:
    if await session.get(BusinessType, definition.key) is not None:
        raise BusinessTypeExists(f"A business type {definition.key!r} already exists.")
    session.add(BusinessType(**_to_row(definition, "api")))
    await session.flush()


def check_overrides(definition: BusinessTypeDefinition, overrides: Mapping[str, Any]) -> EffectiveRules:
    """The effective rules, or a 422 naming each override outside the type's bounds."""
    return resolve_rules(definition, overrides)
