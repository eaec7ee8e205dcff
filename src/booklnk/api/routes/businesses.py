"""Businesses (tenants), their members and invitations."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from booklnk.api.created import CreatedDep
from booklnk.api.deps import (
    ActorDep,
    MemberOrCustomerCtx,
    NowDep,
    OwnerCtx,
    SessionDep,
    SettingsDep,
)
from booklnk.api.pagination import PAGED, CursorQuery, LimitQuery, Page
from booklnk.api.problems import problem_responses
from booklnk.flows import team
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
LISTED = problem_responses(401, 403, 404, 422)


@router.post(
    "",
    summary="Create a business; the caller becomes its owner",
    description="Any signed-in account may create one. Its `business_type` (a key from "
    "`GET /v1/business-types`) sets its rules; `rule_overrides` change those the type allows, "
    "within its bounds. 409 `slug_taken` when the slug is in use.",
    status_code=status.HTTP_201_CREATED,
    response_model=BusinessOut,
    responses=problem_responses(401, 409, 422),
)
async def create_business(
    body: BusinessCreate, actor: ActorDep, session: SessionDep, created: CreatedDep
) -> BusinessOut:
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
    created.at_key(business.id)
    return BusinessOut.model_validate(business)


@router.get(
    "",
    summary="List businesses (the public directory)",
    description="Every business, by name, for any signed-in account, a page at a time "
    "(`cursor` from the previous page's `next_cursor`). Without an account, a booking page reads "
    "one business by slug: `GET /v1/public/businesses/{slug}`.",
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
    description="For its members and any signed-in customer. 404 `business_not_found` for an unknown id.",
    response_model=BusinessOut,
    responses=GUARDED,
)
async def get_business(ctx: MemberOrCustomerCtx, session: SessionDep) -> BusinessOut:
    return BusinessOut.model_validate(await service.get_business(session, ctx.business_id))


@router.patch(
    "/{business_id}",
    summary="Change a business's name, time zone, rule overrides or return origins",
    description="Owners only; fields left out stay as they are, `return_origins` replaces the "
    "list. 422 names the field and the rule it broke (an override outside the type's bounds, an "
    "origin that is not one).",
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
        name=body.name,
        time_zone=body.time_zone,
        rule_overrides=body.rule_overrides,
        return_origins=origins,
        require_phone=body.require_phone,
    )
    return BusinessOut.model_validate(await service.update_business(session, ctx, changes))


@router.get(
    "/{business_id}/members",
    summary="List the business's owners and staff",
    description="Owners only: each member's account id, name, email and role, by name. " + PAGED,
    response_model=Page[MemberOut],
    responses=LISTED,
)
async def list_members(
    ctx: OwnerCtx, session: SessionDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> Page[MemberOut]:
    rows, next_cursor = await service.list_members(session, ctx, cursor=cursor, limit=limit)
    return Page(
        items=[MemberOut(user_id=u.id, full_name=u.full_name, email=u.email, role=m.role) for m, u in rows],
        next_cursor=next_cursor,
    )


@router.delete(
    "/{business_id}/members/{user_id}",
    summary="Remove a member (the last owner cannot be removed)",
    description="Owners only. 409 `last_owner` when it would leave the business without an owner; "
    "404 `member_not_found` for someone who is not a member.",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 409),
)
async def remove_member(user_id: uuid.UUID, ctx: OwnerCtx, session: SessionDep) -> None:
    await team.remove_member(session, ctx, user_id)


@router.post(
    "/{business_id}/invitations",
    summary="Invite someone by email to be staff or a co-owner",
    description="Owners only. The answer carries the invitation's secret `token` once (it is "
    "stored hashed), and it is e-mailed to the address; the invited person accepts it within 7 days, "
    "signed in with that email. One open invitation per address (409 `invitation_pending`, naming it in "
    "`invitation_id`: revoke it to send another) and 20 a day per business (429 `too_many_requests`): "
    "invitations must not become a way to e-mail strangers.",
    status_code=status.HTTP_201_CREATED,
    response_model=InvitationCreated,
    responses=problem_responses(401, 403, 404, 409, 422, 429),
)
async def invite(
    body: InvitationCreate, ctx: OwnerCtx, session: SessionDep, now: NowDep, created: CreatedDep
) -> InvitationCreated:
    invitation, token = await service.invite(session, ctx, email=str(body.email), role=body.role, now=now)
    created.at_key(invitation.id)
    return InvitationCreated(**InvitationOut.model_validate(invitation).model_dump(), token=token)


@router.get(
    "/{business_id}/invitations",
    summary="List pending invitations",
    description="Owners only: invitations not yet accepted (expired ones included, with their "
    "`expires_at`), oldest first; their tokens are never shown again. " + PAGED,
    response_model=Page[InvitationOut],
    responses=LISTED,
)
async def list_invitations(
    ctx: OwnerCtx, session: SessionDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> Page[InvitationOut]:
    rows, next_cursor = await service.list_invitations(session, ctx, cursor=cursor, limit=limit)
    return Page(items=[InvitationOut.model_validate(i) for i in rows], next_cursor=next_cursor)


@router.delete(
    "/{business_id}/invitations/{invitation_id}",
    summary="Revoke a pending invitation",
    description="Owners only; its token stops working at once. 404 `invitation_not_found` when "
    "there is no such pending invitation.",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=GUARDED,
)
async def revoke_invitation(invitation_id: uuid.UUID, ctx: OwnerCtx, session: SessionDep) -> None:
    await service.revoke_invitation(session, ctx, invitation_id)


@router.post(
    "/{business_id}/invitations/accept",
    summary="Accept an invitation sent to the signed-in user's email",
    description="The signed-in account becomes a member with the invited role. 403 when the "
    "invitation was sent to another email; 409 `invitation_unusable` when it was used or has "
    "expired; 404 `invitation_not_found` for a wrong token.",
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
