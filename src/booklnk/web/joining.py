"""The page an invitation's e-mailed link opens: `/{language}/join/{business_id}?token=…`.
Signed out, the guard sends the reader to sign in (or sign up) and back here; signed in,
the page names the business and the role, and its button accepts (the token posted in
the form) and leads to that business's desk. A wrong, used or expired token, or one sent
to another address, is a sentence on this page, never an error page.

The token travels in the query and the form, never in the path: the request log writes
the path only (api.observability, through api.redaction), and uvicorn's access log,
which would write the query, is silenced (booklnk.logging)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from booklnk.tenancy.errors import InsufficientRole, InvitationNotFound, InvitationUnusable
from booklnk.tenancy.service import accept_invitation, access_business, get_business
from booklnk.web import rendering
from booklnk.web.guard import FormDep, SessionDep, SignedInDep, WebRoute, language_of, now_of, see_other
from booklnk.web.words import problem_text

router = APIRouter(route_class=WebRoute, include_in_schema=False)
# An opaque token is 43 characters; anything much longer is not one of ours.
MAX_TOKEN = 200
Token = Annotated[str, Query(max_length=MAX_TOKEN)]
# The role the link names (the e-mail's words; what is granted is the invitation's own).
Role = Annotated[str, Query(pattern="^(owner|staff)$")]


@router.get("/join/{business_id}")
async def join_page(
    request: Request,
    business_id: uuid.UUID,
    tx: SessionDep,
    actor: SignedInDep,
    token: Token = "",
    role: Role = "staff",
) -> Response:
    ctx = await access_business(tx, actor, business_id, require=None)
    said = None if token else problem_text(language_of(request), "invitation_not_found")
    return await _page(request, tx, ctx.business_id, token=token, role=role, said=said)


@router.post("/join/{business_id}")
async def join(
    request: Request, business_id: uuid.UUID, tx: SessionDep, actor: SignedInDep, posted: FormDep
) -> Response:
    language = language_of(request)
    ctx = await access_business(tx, actor, business_id, require=None)
    token = posted.get("token", "")[:MAX_TOKEN]
    try:
        await accept_invitation(tx, ctx, raw_token=token, now=now_of(request))
    except (InvitationNotFound, InvitationUnusable, InsufficientRole) as refused:
        # Another address's invitation reads as unusable here: the page says it may be so.
        code = "invitation_unusable" if isinstance(refused, InsufficientRole) else refused.code
        role = posted.get("role", "staff")
        said = problem_text(language, code)
        return await _page(
            request, tx, business_id, token="", role=role, said=said, status_code=refused.status
        )
    return see_other(f"/{language}/desk/{business_id}")


async def _page(
    request: Request,
    tx: SessionDep,
    business_id: uuid.UUID,
    *,
    token: str,
    role: str,
    said: str | None,
    status_code: int = 200,
) -> Response:
    business = await get_business(tx, business_id)
    return rendering.page(
        request,
        language_of(request),
        "join.html",
        status_code=status_code,
        business=business,
        token=token,
        role=role if role in ("owner", "staff") else "staff",
        said=said,
    )
