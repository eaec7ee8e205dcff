"""Business types: the declarative definitions every business is built on."""

from __future__ import annotations

from fastapi import APIRouter, status

from booklnk.api.created import CreatedDep
from booklnk.api.deps import AdminDep, SessionDep
from booklnk.api.pagination import PAGED, CursorQuery, LimitQuery, Page
from booklnk.api.problems import problem_responses
from booklnk.business_types import service
from booklnk.business_types.definition import BusinessTypeDefinition

router = APIRouter(prefix="/v1/business-types", tags=["business types"])


@router.get(
    "",
    summary="List business types with their scheduling and payment rules",
    description="Public, no token needed: every business type a business can be created from, by key. "
    + PAGED,
    response_model=Page[BusinessTypeDefinition],
    responses=problem_responses(422),
)
async def list_business_types(
    session: SessionDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> Page[BusinessTypeDefinition]:
    definitions, next_cursor = await service.list_definitions(session, cursor=cursor, limit=limit)
    return Page(items=definitions, next_cursor=next_cursor)


@router.get(
    "/{key}",
    summary="Get one business type",
    description="Public, no token needed. An unknown `key` answers 404 `business_type_not_found`.",
    response_model=BusinessTypeDefinition,
    responses=problem_responses(404),
)
async def get_business_type(key: str, session: SessionDep) -> BusinessTypeDefinition:
    return await service.require_definition(session, key)


@router.post(
    "",
    summary="Add a business type (platform admins)",
    description="A new kind of business is configuration: no code, no migration. A key in use answers 409 "
    "`business_type_exists`.",
    status_code=status.HTTP_201_CREATED,
    response_model=BusinessTypeDefinition,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_business_type(
    body: BusinessTypeDefinition, _: AdminDep, session: SessionDep, created: CreatedDep
) -> BusinessTypeDefinition:
    await service.create_definition(session, body)
    created.at_key(body.key)
    return body
