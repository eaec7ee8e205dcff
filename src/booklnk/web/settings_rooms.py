"""An owner's rooms and chairs (the catalog's resources): listed with the inactive ones,
added by name and kind, renamed, deactivated or brought back; and which services need
which kind (a service needing a chair books only while a chair is free). Owners only,
through the catalog's own use cases; a refused form answers with the page again (422),
its problem named by field in the reader's language."""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from booklnk.catalog import service as catalog
from booklnk.tenancy.context import BusinessContext
from booklnk.tenancy.service import get_business
from booklnk.web import rendering
from booklnk.web.guard import (
    FormDep,
    OwnerDep,
    Refused,
    SessionDep,
    WebRoute,
    language_of,
    see_other,
)
from booklnk.web.words import WORDS, field_rule

router = APIRouter(route_class=WebRoute, include_in_schema=False)
# The model's own rule for a kind (catalog.models.KIND_SLUG_SQL): checked here first, so a
# bad kind is a named field on the page rather than a refused row.
KIND = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
MAX_NAME = 200
# What an owner is offered to type as a kind; any other kind following the rule is fine.
SUGGESTED_KINDS = ("chair", "room", "basin", "bed")
# A service needs at most this many kinds (as the API accepts).
MAX_KINDS = 10
# One page holds a shop's rooms and services; a business with more is not this page's.
PAGE_LIMIT = 100


@router.get("/desk/{business_id}/settings/rooms")
async def rooms_page(request: Request, business_id: uuid.UUID, tx: SessionDep, ctx: OwnerDep) -> Response:
    return await _page(request, tx, ctx, errors={}, posted={})


@router.post("/desk/{business_id}/settings/rooms")
async def add_room(
    request: Request, business_id: uuid.UUID, tx: SessionDep, posted: FormDep, ctx: OwnerDep
) -> Response:
    language = language_of(request)
    try:
        name = _name(posted, "name", language)
        kind = _kind(posted.get("kind", ""), "kind", language)
    except Refused as refused:
        return await _refused(request, tx, ctx, refused, posted)
    await catalog.create_resource(tx, ctx, name=name, kind=kind, active=True)
    return see_other(f"/{language}/desk/{business_id}/settings/rooms#rooms")


@router.post("/desk/{business_id}/settings/rooms/{resource_id}/rename")
async def rename_room(
    request: Request,
    business_id: uuid.UUID,
    resource_id: uuid.UUID,
    tx: SessionDep,
    posted: FormDep,
    ctx: OwnerDep,
) -> Response:
    language = language_of(request)
    try:
        name = _name(posted, "name", language, field=f"rename-{resource_id}")
    except Refused as refused:
        return await _refused(request, tx, ctx, refused, posted)
    await catalog.update_resource(tx, ctx, resource_id, {"name": name})
    return see_other(f"/{language}/desk/{business_id}/settings/rooms#room-{resource_id}")


@router.post("/desk/{business_id}/settings/rooms/{resource_id}/active")
async def switch_room(
    request: Request,
    business_id: uuid.UUID,
    resource_id: uuid.UUID,
    tx: SessionDep,
    posted: FormDep,
    ctx: OwnerDep,
) -> Response:
    """Deactivate (kept for history; bookings that hold it stay) or bring back."""
    language = language_of(request)
    if posted.get("active") == "1":
        await catalog.update_resource(tx, ctx, resource_id, {"active": True})
    else:
        await catalog.deactivate_resource(tx, ctx, resource_id)
    return see_other(f"/{language}/desk/{business_id}/settings/rooms#room-{resource_id}")


@router.post("/desk/{business_id}/settings/rooms/needs/{service_id}")
async def service_needs(
    request: Request,
    business_id: uuid.UUID,
    service_id: uuid.UUID,
    tx: SessionDep,
    posted: FormDep,
    ctx: OwnerDep,
) -> Response:
    """The kinds a service needs: one resource of each, free at the booked time."""
    language = language_of(request)
    field = f"needs-{service_id}"
    try:
        ticked = [
            name.removeprefix("need_")
            for name, value in posted.items()
            if name.startswith("need_") and value == "on"
        ]
        kinds = [_kind(kind, field, language) for kind in ticked]
        if len(kinds) > MAX_KINDS:
            raise Refused(field, field_rule(language, "string_too_long"))
    except Refused as refused:
        return await _refused(request, tx, ctx, refused, posted)
    await catalog.update_service(tx, ctx, service_id, {"required_resource_kinds": sorted(set(kinds))})
    return see_other(f"/{language}/desk/{business_id}/settings/rooms#needs")


def _name(posted: dict[str, str], name: str, language: str, *, field: str | None = None) -> str:
    value = posted.get(name, "").strip()
    if not value:
        raise Refused(field or name, field_rule(language, "missing"))
    if len(value) > MAX_NAME:
        raise Refused(field or name, field_rule(language, "string_too_long"))
    return value


def _kind(value: str, field: str, language: str) -> str:
    kind = value.strip().lower()
    if not kind:
        raise Refused(field, field_rule(language, "missing"))
    if not KIND.match(kind):
        raise Refused(field, WORDS[language]["rooms_kind_rule"])
    return kind


async def _refused(
    request: Request, tx: SessionDep, ctx: BusinessContext, refused: Refused, posted: dict[str, str]
) -> Response:
    return await _page(
        request, tx, ctx, errors={refused.field: refused.message}, posted=posted, status_code=422
    )


async def _page(
    request: Request,
    tx: SessionDep,
    ctx: BusinessContext,
    *,
    errors: dict[str, str],
    posted: dict[str, str],
    status_code: int = 200,
) -> Response:
    language = language_of(request)
    listing = catalog.Listing(cursor=None, limit=PAGE_LIMIT, include_inactive=True)
    resources, _ = await catalog.list_resources(tx, ctx, listing)
    services, _ = await catalog.list_services(tx, ctx, catalog.Listing(cursor=None, limit=PAGE_LIMIT))
    active_kinds = {r.kind for r in resources if r.active}
    needs: list[dict[str, Any]] = []
    for view in services:
        wanted = set(view.service.required_resource_kinds)
        # A kind no active room has is still shown where a service needs it: the owner
        # must see (and may untick) what would keep that service from being booked.
        kinds = sorted(active_kinds | wanted)
        needs.append(
            {"service": view.service, "kinds": kinds, "wanted": wanted, "missing": wanted - active_kinds}
        )
    business = await get_business(tx, ctx.business_id)
    return rendering.page(
        request,
        language,
        "settings_rooms.html",
        status_code=status_code,
        business=business,
        resources=resources,
        needs=needs,
        suggested=sorted(set(SUGGESTED_KINDS) | {r.kind for r in resources}),
        errors=errors,
        problems=_problems(errors, language),
        posted=posted,
        base=f"/{language}/desk/{ctx.business_id}",
    )


def _problems(errors: dict[str, str], language: str) -> list[tuple[str, str]]:
    """Each problem with the name of its field, for the summary at the top of the page."""
    words = WORDS[language]
    labels = {"name": words["rooms_name"], "kind": words["rooms_kind"]}
    found = []
    for field, message in errors.items():
        if field.startswith("rename-"):
            label = words["rooms_new_name"]
        elif field.startswith("needs-"):
            label = words["rooms_needs_kinds"]
        else:
            label = labels.get(field, field)
        found.append((f"#{field}", f"{label}: {message}"))
    return found
