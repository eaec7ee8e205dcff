"""Use cases for businesses, memberships and invitations."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.audit import log as audit
from booklnk.business_types import service as business_types
from booklnk.business_types.definition import BusinessTypeDefinition
from booklnk.db.database import set_tenant
from booklnk.db.errors import violated_constraint
from booklnk.kernel.errors import FieldIssue, TooManyRequests, ValidationFailed
from booklnk.kernel.timezones import check_time_zone
from booklnk.notifications import outbox
from booklnk.notifications.outbox import Message
from booklnk.tenancy import credentials, repository
from booklnk.tenancy.context import Actor, BusinessContext
from booklnk.tenancy.errors import (
    BusinessNotFound,
    InsufficientRole,
    InvalidToken,
    InvitationNotFound,
    InvitationPending,
    InvitationUnusable,
    LastOwner,
    MemberNotFound,
    SlugTaken,
)
from booklnk.tenancy.models import Business, Invitation, Membership, Role, User

INVITATION_TTL = timedelta(days=7)
INVITATIONS_PER_DAY = 20


async def access_business(
    session: AsyncSession, actor: Actor, business_id: uuid.UUID, *, require: Role | None
) -> BusinessContext:
    """Enter a business's tenant context and check the actor's role there.

    `require=None` admits any signed-in user (a customer); STAFF admits staff and owners.
    The tenant is entered by a statement of its own. Entering it inside the read saved a
    round trip, but Citus runs a read of a distributed table on a worker, functions and
    all, and the tenant set there never reached the coordinator.
    """
    await set_tenant(session, business_id)
    found = await repository.get_business_access(session, business_id, actor.user_id)
    if found is None:
        raise BusinessNotFound("No such business.")
    business, role, definition, account_exists = found
    if not account_exists:
        raise _account_gone()
    if (require is Role.OWNER and role is not Role.OWNER) or (require is Role.STAFF and role is None):
        raise InsufficientRole(f"This action needs the {require.value} role in this business.")
    return context_for(business, definition, actor=actor, role=role)


def context_for(business: Business, definition: str, *, actor: Actor, role: Role | None) -> BusinessContext:
    """The context of `actor` in `business`, its rules resolved from its type's stored
    `definition` (JSON text) and its own overrides."""
    return BusinessContext(
        actor=actor,
        business_id=business.id,
        time_zone=business.time_zone,
        business_type_key=business.business_type_key,
        role=role,
        rules=business_types.effective_rules(definition, business.rule_overrides),
        definition_text=definition,
        overrides=dict(business.rule_overrides),
        require_phone=business.require_phone,
    )


async def create_business(
    session: AsyncSession,
    actor: Actor,
    *,
    name: str,
    slug: str,
    business_type_key: str,
    time_zone: str,
    currency: str,
    rule_overrides: Mapping[str, Any],
) -> Business:
    check_time_zone(time_zone, field="body.time_zone")
    definition = await business_types.get_definition(session, business_type_key)
    if definition is None:
        raise ValidationFailed.on(
            "business_type", "unknown_business_type", f"No business type {business_type_key!r}."
        )
    _check_overrides(definition, rule_overrides)
    if await repository.slug_exists(session, slug):
        raise SlugTaken(f"The slug {slug!r} is taken.")
    business = Business(
        id=uuid.uuid4(),
        name=name,
        slug=slug,
        business_type_key=business_type_key,
        time_zone=time_zone,
        currency=currency,
        rule_overrides=dict(rule_overrides),
    )
    await set_tenant(session, business.id)
    session.add(business)
    session.add(Membership(business_id=business.id, user_id=actor.user_id, role=Role.OWNER))
    try:
        await session.flush()
    except IntegrityError as exc:
        if violated_constraint(exc) == "uq_business_slug":  # a concurrent request took it first
            raise SlugTaken(f"The slug {slug!r} is taken.") from exc
        raise
    return business


@dataclass(frozen=True, slots=True)
class BusinessChanges:
    name: str | None = None
    time_zone: str | None = None
    rule_overrides: Mapping[str, Any] | None = None
    return_origins: Sequence[str] | None = None  # checked by return_origins.check already
    require_phone: bool | None = None


async def update_business(session: AsyncSession, ctx: BusinessContext, changes: BusinessChanges) -> Business:
    business = await get_business(session, ctx.business_id)
    if changes.name is not None:
        business.name = changes.name
    if changes.time_zone is not None:
        check_time_zone(changes.time_zone, field="body.time_zone")
        business.time_zone = changes.time_zone
    if changes.rule_overrides is not None:
        definition = await business_types.get_definition(session, business.business_type_key)
        assert definition is not None  # guarded by the foreign key
        _check_overrides(definition, changes.rule_overrides)
        business.rule_overrides = dict(changes.rule_overrides)
    if changes.return_origins is not None:
        business.return_origins = list(changes.return_origins)
    if changes.require_phone is not None:
        business.require_phone = changes.require_phone
    await session.flush()
    changed = {name: value for name, value in asdict(changes).items() if value is not None}
    await _audit(session, ctx, "business.updated", ("business", ctx.business_id), changed)
    return business


def _check_overrides(definition: BusinessTypeDefinition, overrides: Mapping[str, Any]) -> None:
    """Overrides as the client sent them: report `rules.x` as `body.rule_overrides.x`."""
    try:
        business_types.check_overrides(definition, overrides)
    except ValidationFailed as exc:
        exc.issues = [
            FieldIssue(i.field.replace("rules.", "body.rule_overrides.", 1), i.rule, i.message)
            for i in exc.issues
        ]
        raise


def _account_gone() -> InvalidToken:
    # A still-valid token of a deleted account: the token, not the caller's role, is wrong.
    return InvalidToken("This account no longer exists.")


async def check_account(session: AsyncSession, actor: Actor) -> None:
    """The token's account still exists (a token lives on after its account is deleted)."""
    if not await repository.user_exists(session, actor.user_id):
        raise _account_gone()


async def is_platform_admin(session: AsyncSession, actor: Actor) -> bool:
    user = await repository.get_user(session, actor.user_id)
    return user is not None and user.is_platform_admin


async def describe_user(
    session: AsyncSession, actor: Actor
) -> tuple[User, Sequence[tuple[Membership, Business]]]:
    """The signed-in user and where they hold a role."""
    user = await repository.get_user(session, actor.user_id)
    if user is None:
        raise _account_gone()
    return user, await repository.list_user_memberships(session, actor.user_id)


async def list_businesses(
    session: AsyncSession, *, cursor: str | None, limit: int
) -> tuple[list[Business], str | None]:
    """The public directory, by name."""
    return await repository.businesses_page(session, cursor=cursor, limit=limit)


async def get_business(session: AsyncSession, business_id: uuid.UUID) -> Business:
    business = await repository.get_business(session, business_id)
    if business is None:
        raise BusinessNotFound("No such business.")
    return business


async def list_members(
    session: AsyncSession, ctx: BusinessContext, *, cursor: str | None, limit: int
) -> tuple[list[tuple[Membership, User]], str | None]:
    return await repository.list_business_members(session, ctx.business_id, cursor=cursor, limit=limit)


async def remove_member(session: AsyncSession, ctx: BusinessContext, user_id: uuid.UUID) -> None:
    # Lock the business row first: two owners removing each other at once must queue,
    # or both would count two owners and leave none.
    await repository.lock_business(session, ctx.business_id)
    membership = await repository.get_membership(session, ctx.business_id, user_id)
    if membership is None:
        raise MemberNotFound("No such member.")
    if membership.role is Role.OWNER and await repository.count_owners(session, ctx.business_id) <= 1:
        raise LastOwner("A business must keep at least one owner.")
    await session.delete(membership)
    await session.flush()
    await _audit(session, ctx, "member.removed", ("user", user_id), {"role": membership.role})


async def invite(
    session: AsyncSession, ctx: BusinessContext, *, email: str, role: Role, now: datetime
) -> tuple[Invitation, str]:
    """Create an invitation; the raw token is returned once and e-mailed to the address
    invited (kept in the outbox only until that e-mail is sent or the invitation expires);
    the invitation itself stores only its hash.

    Anyone may open a business, so invitations are how a stranger could make Booklnk
    e-mail people who never asked: one open invitation per address (409
    `invitation_pending`; revoke it to send another) and INVITATIONS_PER_DAY per business
    (429), counted from the audit log, which revoking does not shorten."""
    await repository.lock_business(session, ctx.business_id)  # (two invitations at once queue)
    pending = await repository.pending_invitation_to(session, ctx.business_id, email, now)
    if pending is not None:
        raise InvitationPending(
            "This address has an invitation open: revoke it to send another.",
            extra={"invitation_id": str(pending.id)},
        )
    sent = await audit.count_since(session, ctx.business_id, "invitation.created", now - timedelta(days=1))
    if sent >= INVITATIONS_PER_DAY:
        raise TooManyRequests(
            f"A business sends at most {INVITATIONS_PER_DAY} invitations a day.", retry_after_seconds=3600
        )
    raw, digest = credentials.new_opaque_token()
    invitation = Invitation(
        business_id=ctx.business_id,
        id=uuid.uuid4(),
        email=email,
        role=role,
        token_hash=digest,
        invited_by=ctx.actor.user_id,
        expires_at=now + INVITATION_TTL,
    )
    session.add(invitation)
    await session.flush()
    details = {"email": email, "role": role}
    await _audit(session, ctx, "invitation.created", ("invitation", invitation.id), details, at=now)
    await _tell_invited(session, ctx, invitation, raw, now=now)
    return invitation, raw


async def _tell_invited(
    session: AsyncSession, ctx: BusinessContext, invitation: Invitation, token: str, *, now: datetime
) -> None:
    """The invitation by e-mail to the address invited, in its account's language if it has
    one (else the inviter's): a link to the web page that accepts it, and the token itself
    for the API. The token is erased from the outbox once sent, as a code is."""
    business = await get_business(session, ctx.business_id)
    inviter = await repository.get_user(session, ctx.actor.user_id)
    invited = await repository.get_user_by_email(session, invitation.email)
    reader = invited or inviter
    language = reader.language if reader is not None else "en"
    message = Message(
        address=invitation.email,
        template="staff_invitation",
        language=language,
        params={
            "business": business.name,
            "inviter": inviter.full_name if inviter is not None else business.name,
            "role": invitation.role.value,
            "token": token,
            "accept_path": f"/v1/businesses/{ctx.business_id}/invitations/accept",
            # The web page that accepts it; the token is added by the template (only
            # `token` is erased from the outbox once sent, so no other parameter holds it).
            "join_path": f"/{language}/join/{ctx.business_id}?role={invitation.role.value}",
            "expires_at": invitation.expires_at.isoformat(),
            "time_zone": business.time_zone,
        },
        business_id=ctx.business_id,
        expires_at=invitation.expires_at,
    )
    await outbox.record(session, message, now=now)


async def list_invitations(
    session: AsyncSession, ctx: BusinessContext, *, cursor: str | None, limit: int
) -> tuple[list[Invitation], str | None]:
    return await repository.list_pending_invitations(session, ctx.business_id, cursor=cursor, limit=limit)


async def revoke_invitation(session: AsyncSession, ctx: BusinessContext, invitation_id: uuid.UUID) -> None:
    invitation = await repository.get_invitation(session, ctx.business_id, invitation_id)
    if invitation is None or invitation.accepted_at is not None:
        raise InvitationNotFound("No such pending invitation.")
    await session.delete(invitation)
    await session.flush()
    details = {"email": invitation.email, "role": invitation.role}
    await _audit(session, ctx, "invitation.revoked", ("invitation", invitation_id), details)


async def accept_invitation(
    session: AsyncSession, ctx: BusinessContext, *, raw_token: str, now: datetime
) -> tuple[Membership, Business]:
    invitation = await repository.get_invitation_by_token(
        session, ctx.business_id, credentials.hash_opaque_token(raw_token)
    )
    if invitation is None:
        raise InvitationNotFound("No such invitation.")
    if invitation.accepted_at is not None or invitation.expires_at <= now:
        raise InvitationUnusable("This invitation was already used or has expired.")
    user = await repository.get_user(session, ctx.actor.user_id)
    if user is None or (user.email or "").lower() != invitation.email.lower():
        raise InsufficientRole("This invitation was sent to another email address.")
    invitation.accepted_at, invitation.accepted_by = now, user.id
    membership = await repository.get_membership(session, ctx.business_id, user.id)
    if membership is None:
        membership = Membership(business_id=ctx.business_id, user_id=user.id, role=invitation.role)
        session.add(membership)
    elif membership.role is Role.STAFF:
        membership.role = invitation.role  # an invitation may promote, never demote
    try:
        await session.flush()
    except IntegrityError as exc:
        if violated_constraint(exc) == "pk_membership":  # another invitation won the race
            raise InvitationUnusable("You became a member of this business meanwhile; retry.") from exc
        raise
    details = {"role": membership.role, "invitation_id": invitation.id}
    await _audit(session, ctx, "member.joined", ("user", user.id), details, at=now)
    return membership, await get_business(session, ctx.business_id)


async def _audit(
    session: AsyncSession,
    ctx: BusinessContext,
    action: str,
    subject: tuple[str, uuid.UUID],
    details: Mapping[str, Any],
    *,
    at: datetime | None = None,
) -> None:
    await audit.record(
        session, ctx.business_id, ctx.actor.user_id, action, subject=subject, details=details, at=at
    )
