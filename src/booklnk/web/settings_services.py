"""An owner's services after setup: each listed (the ones taken off the booking page too),
edited (name, description, price, lengths, who performs it) or taken off and put back.
Owners only, through the catalog's own use cases; a refused form answers with the page
again (422), its problem named by field in the reader's language."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from booklnk.catalog import service as catalog
from booklnk.kernel.errors import ValidationFailed
from booklnk.kernel.money import MINOR_UNITS
from booklnk.tenancy.context import BusinessContext
from booklnk.tenancy.service import get_business
from booklnk.web import rendering
from booklnk.web.desk_walk_in import minor_units
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
MAX_NAME = 200
MAX_DESCRIPTION = 1_000
# As many lengths as the API accepts for one service.
MAX_DURATIONS = 10
# One page holds a shop's services and team; a business with more is not this page's.
PAGE_LIMIT = 100
# The form's fields, by the name each problem is shown under.
FIELDS = ("name", "description", "price", "durations", "staff")


@router.get("/desk/{business_id}/settings/services")
async def services_page(request: Request, business_id: uuid.UUID, tx: SessionDep, ctx: OwnerDep) -> Response:
    return await _page(request, tx, ctx, errors={}, posted={})


@router.post("/desk/{business_id}/settings/services/{service_id}")
async def edit_service(
    request: Request,
    business_id: uuid.UUID,
    service_id: uuid.UUID,
    tx: SessionDep,
    posted: FormDep,
    ctx: OwnerDep,
) -> Response:
    language = language_of(request)
    current = await catalog.get_service(tx, ctx, service_id)  # 404 page before any parsing
    try:
        changes = _changes(posted, language, service_id, current.service.currency)
        try:
            await catalog.update_service(tx, ctx, service_id, changes)
        except ValidationFailed as refused:
            raise _named(refused, language, service_id) from None
    except Refused as refused:
        return await _page(
            request, tx, ctx, errors={refused.field: refused.message}, posted=posted, status_code=422
        )
    return see_other(f"/{language}/desk/{business_id}/settings/services#service-{service_id}")


@router.post("/desk/{business_id}/settings/services/{service_id}/active")
async def switch_service(
    request: Request,
    business_id: uuid.UUID,
    service_id: uuid.UUID,
    tx: SessionDep,
    posted: FormDep,
    ctx: OwnerDep,
) -> Response:
    """Take a service off the booking page (kept, with its bookings) or put it back."""
    language = language_of(request)
    if posted.get("active") == "1":
        await catalog.update_service(tx, ctx, service_id, {"active": True})
    else:
        await catalog.deactivate_service(tx, ctx, service_id)
    return see_other(f"/{language}/desk/{business_id}/settings/services#service-{service_id}")


def _changes(
    posted: dict[str, str], language: str, service_id: uuid.UUID, currency: str
) -> dict[str, object]:
    """The service as the form states it, each field checked here so its problem is named."""
    name = posted.get("name", "").strip()
    if not name:
        raise Refused(f"name-{service_id}", field_rule(language, "missing"))
    if len(name) > MAX_NAME:
        raise Refused(f"name-{service_id}", field_rule(language, "string_too_long"))
    description = posted.get("description", "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise Refused(f"description-{service_id}", field_rule(language, "string_too_long"))
    try:
        price = _price(posted.get("price", ""), currency)
    except ValidationFailed:
        raise Refused(f"price-{service_id}", WORDS[language]["services_price_rule"]) from None
    typed = posted.get("durations", "").translate(_ARABIC_DIGITS)
    if re.search(r"[^0-9 ,،]", typed) or not re.search(r"[0-9]", typed):
        raise Refused(f"durations-{service_id}", WORDS[language]["services_durations_rule"])
    durations = [int(d) for d in re.findall(r"[0-9]+", typed)]
    if len(durations) > MAX_DURATIONS or any(d <= 0 for d in durations):
        raise Refused(f"durations-{service_id}", WORDS[language]["services_durations_rule"])
    staff_ids = [
        staff_id
        for key, value in posted.items()
        if key.startswith("staff_") and value == "on"
        if (staff_id := _uuid(key.removeprefix("staff_"))) is not None
    ]
    return {
        "name": name,
        "description": description,
        "price_minor": price,
        "duration_options_minutes": sorted(set(durations)),
        "staff_ids": staff_ids,
    }


def _named(refused: ValidationFailed, language: str, service_id: uuid.UUID) -> Refused:
    """The use case's refusal at the form's field: lengths off the business's time grid,
    a team member gone meanwhile."""
    field = refused.issues[0].field if refused.issues else ""
    if "duration" in field:
        return Refused(f"durations-{service_id}", WORDS[language]["services_durations_grid"])
    if "staff" in field:
        return Refused(f"staff-{service_id}", field_rule(language, "value_error"))
    return Refused(f"name-{service_id}", field_rule(language, "value_error"))


def _price(typed: str, currency: str) -> int:
    """The desk's amount rule, and a free service too (the desk never takes a zero payment)."""
    if re.fullmatch(r"[0\u0660]+([.\u066b][0\u0660]*)?", typed.strip()):
        return 0
    return minor_units(typed, currency)


def typed_price(minor: int, currency: str) -> str:
    """An amount as the owner would type it again: "150", "150.5" (no currency, no grouping)."""
    major = Decimal(minor).scaleb(-MINOR_UNITS.get(currency, 2))
    return format(major.normalize(), "f") if major != major.to_integral() else str(int(major))


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


_ARABIC_DIGITS = str.maketrans("".join(chr(0x0660 + d) for d in range(10)), "0123456789")


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
    services, _ = await catalog.list_services(tx, ctx, listing)
    staff, _ = await catalog.list_staff(tx, ctx, listing)
    business = await get_business(tx, ctx.business_id)
    return rendering.page(
        request,
        language,
        "settings_services.html",
        status_code=status_code,
        business=business,
        services=services,
        prices={v.service.id: typed_price(v.service.price_minor, v.service.currency) for v in services},
        staff=staff,
        errors=errors,
        problems=_problems(errors, language),
        posted=posted,
        base=f"/{language}/desk/{ctx.business_id}",
    )


def _problems(errors: dict[str, str], language: str) -> list[tuple[str, str]]:
    """Each problem with the name of its field, for the summary at the top of the page."""
    words = WORDS[language]
    found = []
    for field, message in errors.items():
        label = words[f"services_{field.partition('-')[0]}"]
        found.append((f"#{field}", f"{label}: {message}"))
    return found
