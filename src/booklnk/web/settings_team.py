"""An owner's team after setup: the staff members (the columns of the desk) renamed,
deactivated or brought back, and each linked to a member's account (who then sees their
own column); the business's members and their roles, one removed; invitations by e-mail,
pending ones listed and revoked. Owners only, through the tenancy and catalog use cases;
what a use case refuses (the last owner, an address already invited, the day's limit)
comes back as the page with its sentence."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import EmailStr, TypeAdapter, ValidationError

from booklnk.catalog import service as catalog
from booklnk.catalog.errors import StaffUserTaken
from booklnk.flows import team
from booklnk.kernel.errors import BooklnkError, TooManyRequests, ValidationFailed
from booklnk.tenancy import service as tenancy
from booklnk.tenancy.context import BusinessContext
from booklnk.tenancy.errors import InvitationPending, LastOwner
from booklnk.tenancy.models import Role
from booklnk.web import rendering
from booklnk.web.guard import (
    FormDep,
    OwnerDep,
    Refused,
    SessionDep,
    SignedInDep,
    WebRoute,
    language_of,
    now_of,
    parse_uuid,
    see_other,
)
from booklnk.web.words import WORDS, field_rule, problem_text

router = APIRouter(route_class=WebRoute, include_in_schema=False)
MAX_NAME = 200
# One page holds a shop's team, members and invitations; a business with more is not this page's.
PAGE_LIMIT = 100
_EMAIL: TypeAdapter[str] = TypeAdapter(EmailStr)
# The use cases' refusals this page answers with a sentence (the rest are error pages).
SAID = (LastOwner, InvitationPending, TooManyRequests, StaffUserTaken)
PATH = "/desk/{business_id}/settings/team"


@router.get(PATH)
async def team_page(request: Request, business_id: uuid.UUID, tx: SessionDep, ctx: OwnerDep) -> Response:
    return await _page(request, tx, ctx)


@router.post(PATH + "/staff/{staff_id}/rename")
async def rename_staff(
    request: Request,
    business_id: uuid.UUID,
    staff_id: uuid.UUID,
    tx: SessionDep,
    posted: FormDep,
    ctx: OwnerDep,
) -> Response:
    name = posted.get("display_name", "").strip()
    field = f"rename-{staff_id}"
    language = language_of(request)
    if not name or len(name) > MAX_NAME:
        rule = field_rule(language, "missing" if not name else "string_too_long")
        return await _page(request, tx, ctx, errors={field: rule}, posted=posted, status_code=422)
    await catalog.update_staff(tx, ctx, staff_id, {"display_name": name})
    return _back(request, business_id, f"staff-{staff_id}")


@router.post(PATH + "/staff/{staff_id}/active")
async def switch_staff(
    request: Request,
    business_id: uuid.UUID,
    staff_id: uuid.UUID,
    tx: SessionDep,
    posted: FormDep,
    ctx: OwnerDep,
) -> Response:
    """Deactivate (off the booking page and the desk's columns; history kept) or bring back."""
    if posted.get("active") == "1":
        await catalog.update_staff(tx, ctx, staff_id, {"active": True})
    else:
        await catalog.deactivate_staff(tx, ctx, staff_id)
    return _back(request, business_id, f"staff-{staff_id}")


@router.post(PATH + "/staff/{staff_id}/link")
async def link_staff(
    request: Request,
    business_id: uuid.UUID,
    staff_id: uuid.UUID,
    tx: SessionDep,
    posted: FormDep,
    ctx: OwnerDep,
) -> Response:
    """The member's account this column belongs to (none: unlinked)."""
    user_id = parse_uuid(posted.get("user_id"))
    try:
        await catalog.update_staff(tx, ctx, staff_id, {"user_id": user_id})
    except ValidationFailed:  # not a member (any more): the select offered only members
        rule = field_rule(language_of(request), "value_error")
        return await _page(
            request, tx, ctx, errors={f"link-{staff_id}": rule}, posted=posted, status_code=422
        )
    except SAID as refused:
        return await _said(request, tx, ctx, refused)
    return _back(request, business_id, f"staff-{staff_id}")


@router.post(PATH + "/members/{user_id}/remove")
async def remove_member(
    request: Request,
    business_id: uuid.UUID,
    user_id: uuid.UUID,
    tx: SessionDep,
    actor: SignedInDep,
    posted: FormDep,
    ctx: OwnerDep,
) -> Response:
    try:
        await team.remove_member(tx, ctx, user_id)
    except SAID as refused:
        return await _said(request, tx, ctx, refused)
    if user_id == actor.user_id:  # an owner who left: this page is no longer theirs
        return see_other(f"/{language_of(request)}/desk")
    return _back(request, business_id, "members")


@router.post(PATH + "/invitations")
async def invite(
    request: Request, business_id: uuid.UUID, tx: SessionDep, posted: FormDep, ctx: OwnerDep
) -> Response:
    language = language_of(request)
    try:
        email = _email(posted.get("email", ""), language)
        role = Role.OWNER if posted.get("role") == "owner" else Role.STAFF
    except Refused as refused:
        errors = {refused.field: refused.message}
        return await _page(request, tx, ctx, errors=errors, posted=posted, status_code=422)
    try:
        await tenancy.invite(tx, ctx, email=email, role=role, now=now_of(request))
    except SAID as refused:
        return await _said(request, tx, ctx, refused, posted=posted)
    return _back(request, business_id, "invitations")


@router.post(PATH + "/invitations/{invitation_id}/revoke")
async def revoke(
    request: Request,
    business_id: uuid.UUID,
    invitation_id: uuid.UUID,
    tx: SessionDep,
    posted: FormDep,
    ctx: OwnerDep,
) -> Response:
    await tenancy.revoke_invitation(tx, ctx, invitation_id)
    return _back(request, business_id, "invitations")


def _email(typed: str, language: str) -> str:
    value = typed.strip()
    if not value:
        raise Refused("email", field_rule(language, "missing"))
    try:
        return _EMAIL.validate_python(value)
    except ValidationError:
        raise Refused("email", WORDS[language]["team_email_rule"]) from None


def _back(request: Request, business_id: uuid.UUID, anchor: str) -> Response:
    return see_other(f"/{language_of(request)}/desk/{business_id}/settings/team#{anchor}")


async def _said(
    request: Request,
    tx: SessionDep,
    ctx: BusinessContext,
    refused: BooklnkError,
    *,
    posted: dict[str, str] | None = None,
) -> Response:
    """The page again with the use case's refusal as a sentence (and its status)."""
    language = language_of(request)
    if isinstance(refused, TooManyRequests):
        sentence = WORDS[language]["team_invitations_per_day"]
    else:
        sentence = problem_text(language, refused.code)
    return await _page(request, tx, ctx, said=sentence, posted=posted or {}, status_code=refused.status)


async def _page(
    request: Request,
    tx: SessionDep,
    ctx: BusinessContext,
    *,
    errors: dict[str, str] | None = None,
    said: str | None = None,
    posted: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    language = language_of(request)
    listing = catalog.Listing(cursor=None, limit=PAGE_LIMIT, include_inactive=True)
    staff, _ = await catalog.list_staff(tx, ctx, listing)
    members, _ = await tenancy.list_members(tx, ctx, cursor=None, limit=PAGE_LIMIT)
    invitations, _ = await tenancy.list_invitations(tx, ctx, cursor=None, limit=PAGE_LIMIT)
    linked = {s.user_id for s in staff if s.user_id is not None}
    names = {user.id: user.full_name or user.email or "" for _, user in members}
    business = await tenancy.get_business(tx, ctx.business_id)
    errors = errors or {}
    context: dict[str, Any] = {
        "business": business,
        "staff": staff,
        "members": members,
        "owners": sum(1 for m, _ in members if m.role is Role.OWNER),
        "unlinked": [(user.id, names[user.id]) for _, user in members if user.id not in linked],
        "names": names,
        "invitations": invitations,
        "now": now_of(request),
        "errors": errors,
        "problems": _problems(errors, language),
        "said": said,
        "posted": posted or {},
        "base": f"/{language}/desk/{ctx.business_id}",
    }
    return rendering.page(request, language, "settings_team.html", status_code=status_code, **context)


def _problems(errors: dict[str, str], language: str) -> list[tuple[str, str]]:
    """Each problem with the name of its field, for the summary at the top of the page."""
    words = WORDS[language]
    labels = {"rename": words["team_new_name"], "link": words["team_link"], "email": words["team_email"]}
    return [
        (f"#{field}", f"{labels[field.partition('-')[0]]}: {message}") for field, message in errors.items()
    ]
