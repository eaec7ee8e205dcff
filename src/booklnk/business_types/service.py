"""Storing and reading business-type definitions."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.business_types import repository
from booklnk.business_types.definition import BusinessTypeDefinition, EffectiveRules
from booklnk.business_types.errors import BusinessTypeExists, BusinessTypeNotFound
from booklnk.business_types.models import BusinessType
from booklnk.business_types.rules import resolve_rules

log = structlog.get_logger(__name__)


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
    """Store definitions read from files, so files stay the source of truth on each start."""
    if not definitions:
        return
    written = await repository.upsert_from_files(session, [_to_row(d, source) for d in definitions])
    for skipped in sorted({d.key for d in definitions} - set(written)):
        log.warning("business_type_file_ignored", key=skipped, reason="an admin-created type has this key")


async def get_definition(session: AsyncSession, key: str) -> BusinessTypeDefinition | None:
    stored = await repository.get_definition_text(session, key)
    return parse_stored(stored) if stored is not None else None


@lru_cache(maxsize=64)
def parse_stored(stored: str) -> BusinessTypeDefinition:
    """A stored definition, validated once per process for each distinct JSON text.

    Validation (a JSON-Schema meta-schema check of `booking_fields` among others) costs
    more than a request's queries, and a definition changes rarely. The cache is keyed by
    the stored JSON itself, so a changed definition (another process syncing files, an
    admin) is a new key and is validated before use: never a stale one. The model is
    frozen; callers treat its mappings as read-only (`default_rules` copies them)."""
    return BusinessTypeDefinition.model_validate(json.loads(stored))


async def require_definition(session: AsyncSession, key: str) -> BusinessTypeDefinition:
    definition = await get_definition(session, key)
    if definition is None:
        raise BusinessTypeNotFound(f"No business type {key!r}.")
    return definition


async def list_definitions(
    session: AsyncSession, *, cursor: str | None, limit: int
) -> tuple[list[BusinessTypeDefinition], str | None]:
    rows, next_cursor = await repository.list_page(session, cursor=cursor, limit=limit)
    return [BusinessTypeDefinition.model_validate(r.definition) for r in rows], next_cursor


async def create_definition(session: AsyncSession, definition: BusinessTypeDefinition) -> None:
    exists = BusinessTypeExists(f"A business type {definition.key!r} already exists.")
    if await repository.get(session, definition.key) is not None:
        raise exists
    session.add(BusinessType(**_to_row(definition, "api")))
    try:
        await session.flush()
    except IntegrityError as exc:  # created concurrently
        raise exists from exc


def check_overrides(definition: BusinessTypeDefinition, overrides: Mapping[str, Any]) -> EffectiveRules:
    """The effective rules, or a 422 naming each override outside the type's bounds."""
    return resolve_rules(definition, overrides)


def effective_rules(stored_definition: str, overrides: Mapping[str, Any]) -> EffectiveRules:
    """A business's effective rules from its type's stored definition and its overrides,
    or a 422 naming each override outside the type's bounds. Resolved once per process
    for each distinct pair: every request enters a business, and the answer only changes
    when the definition or the overrides do (both are part of the key)."""
    return _resolved(stored_definition, json.dumps(overrides, sort_keys=True))


@lru_cache(maxsize=1024)
def _resolved(stored_definition: str, overrides: str) -> EffectiveRules:
    return resolve_rules(parse_stored(stored_definition), json.loads(overrides))
