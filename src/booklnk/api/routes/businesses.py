"""Businesses (tenants), their members and invitations."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from booklnk.api.deps import (
    ActorDep,
    MemberOrCustomerCtx,
    NowDep,
    OwnerCtx,
    SessionDep,
    SettingsDep,
)
from booklnk.api.pagination import CursorQuery, LimitQuery, Page
from booklnk.api.problems import problem_responses
from booklnk.tenancy import return_origins, service
from booklnk.tenancy.schemas import (
    BusinessCreate,
    BusinessOut,
    BusinessUpdate,
    InvitationAccept,
    InvitationCreate,
    InvitationCreated,
    InvitationOut,
    MemberOut,
    MembershipOut,
)

router = APIRouter(prefix="/v1/businesses", tags=["businesses"])
GUARDED = problem_responses(401, 403, 404)


@router.post(
    "",
    summary="Create a business; the caller becomes its owner",
    status_code=status.HTTP_201_CREATED,
    response_model=BusinessOut,
    responses=problem_responses(401, 409, 422),
)
async def create_business(body: BusinessCreate, actor: ActorDep, session: SessionDep) -> BusinessOut:
    business = await service.create_business(
        session,
        actor,
        name=body.name,
        slug=body.slug,
        business_type_key=body.business_type,
        time_zone=body.time_zone,
        currency=body.currency,
        rule_overrides=body.rule_overrides,
    )
    return BusinessOut.model_validate(business)


@router.get(
    "",
    summary="List businesses (the public directory)",
    response_model=Page[BusinessOut],
    responses=problem_responses(401, 422),
)
async def list_businesses(
    _: ActorDep, session: SessionDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> Page[BusinessOut]:
    rows, next_cursor = await service.list_businesses(session, cursor=cursor, limit=limit)
    return Page(items=[BusinessOut.model_validate(b) for b in rows], next_cursor=next_cursor)


@router.get(
    "/{business_id}",
    summary="Get a business's public profile",
    response_model=BusinessOut,
    responses=GUARDED,
)
async def get_business(ctx: MemberOrCustomerCtx, session: SessionDep) -> BusinessOut:
    return BusinessOut.model_validate(await service.get_business(session, ctx.business_id))


@router.patch(
    "/{business_id}",
    summary="Change a business's name, time zone, rule overrides or return origins",
    response_model=BusinessOut,
    responses=problem_responses(401, 403, 404, 422),
)
async def update_business(
    body: BusinessUpdate, ctx: OwnerCtx, session: SessionDep, settings: SettingsDep
) -> BusinessOut:
    origins = body.return_origins
    if origins is not None:
        origins = return_origins.check(origins, allow_local=settings.environment != "production")
    changes = service.BusinessChanges(
        name=body.name, time_zone=body.time_zone, rule_overrides=body.rule_overrides, return_origins=origins
    )
    return BusinessOut.model_validate(await service.update_business(session, ctx, changes))


@router.get(
    "/{business_id}/members",
    summary="List the business's owners and staff",
    response_model=list[MemberOut],
    responses=GUARDED,
)
async def list_members(ctx: OwnerCtx, session: SessionDep) -> list[MemberOut]:
    return [
        MemberOut(user_id=u.id, full_name=u.full_name, email=u.email, role=m.role)
        for m, u in await service.list_members(session, ctx)
    ]


@router.delete(
    "/{business_id}/members/{user_id}",
    summary="Remove a member (the last owner cannot be removed)",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 409),
)
async def remove_member(user_id: uuid.UUID, ctx: OwnerCtx, session: SessionDep) -> None:
    await service.remove_member(session, ctx, user_id)


@router.post(
    "/{business_id}/invitations",
    summary="Invite someone by email to be staff or a co-owner",
    status_code=status.HTTP_201_CREATED,
    response_model=InvitationCreated,
    responses=problem_responses(401, 403, 404, 422),
)
async def invite(
    body: InvitationCreate, ctx: OwnerCtx, session: SessionDep, now: NowDep
) -> InvitationCreated:
    invitation, token = await service.invite(session, ctx, email=str(body.email), role=body.role, now=now)
    return InvitationCreated(**InvitationOut.model_validate(invitation).model_dump(), token=token)


@router.get(
    "/{business_id}/invitations",
    summary="List pending invitations",
    response_model=list[InvitationOut],
    responses=GUARDED,
)
async def list_invitations(ctx: OwnerCtx, session: SessionDep) -> list[InvitationOut]:
    return [InvitationOut.model_validate(i) for i in await service.list_invitations(session, ctx)]


@router.delete(
    "/{business_id}/invitations/{invitation_id}",
    summary="Revoke a pending invitation",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=GUARDED,
)
async def revoke_invitation(invitation_id: uuid.UUID, ctx: OwnerCtx, session: SessionDep) -> None:
    await service.revoke_invitation(session, ctx, invitation_id)


@router.post(
    "/{business_id}/invitations/accept",
    summary="Accept an invitation sent to the signed-in user's email",
    response_model=MembershipOut,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def accept_invitation(
    body: InvitationAccept, ctx: MemberOrCustomerCtx, session: SessionDep, now: NowDep
) -> MembershipOut:
    membership, business = await service.accept_invitation(session, ctx, raw_token=body.token, now=now)
    return MembershipOut(
        business_id=business.id,
        business_name=business.name,
        business_slug=business.slug,
        role=membership.role,
    )
