"""Business types: the declarative definitions every business is built on."""

from __future__ import annotations

from fastapi import APIRouter, status

from booklnk.api.deps import AdminDep, SessionDep
from booklnk.api.problems import problem_responses
from booklnk.business_types import service
from booklnk.business_types.definition import BusinessTypeDefinition

router = APIRouter(prefix="/v1/business-types", tags=["business types"])


@router.get(
    "",
    summary="List business types with their scheduling and payment rules",
    description="Public, no token needed: every business type a business can be created from, by key "
    "(not paginated).",
    response_model=list[BusinessTypeDefinition],
)
async def list_business_types(session: SessionDep) -> list[BusinessTypeDefinition]:
    return await service.list_definitions(session)


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
    description="A new kind of business is configuration: no code, no migration.",
    status_code=status.HTTP_201_CREATED,
    response_model=BusinessTypeDefinition,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_business_type(
    body: BusinessTypeDefinition, _: AdminDep, session: SessionDep
) -> BusinessTypeDefinition:
    await service.create_definition(session, body)
    return body
