"""An owner's webhook endpoints: add one (its signing secret shown on the answer to that
form and never again), list them, enable or disable one, remove one (after asking), and
see an endpoint's recent deliveries and send one again. Owners only, through the
integrations service the API uses, with the same input rules (`EndpointCreate`) and the
same target policy (a private address is refused in production)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from booklnk import idempotency
from booklnk.integrations import service
from booklnk.integrations.catalogue import EVENT_TYPES
from booklnk.integrations.errors import EndpointDisabled, TooManyEndpoints
from booklnk.integrations.models import WebhookEndpoint
from booklnk.integrations.schemas import EndpointCreate
from booklnk.integrations.targets import TargetPolicy, policy_for
from booklnk.kernel.errors import ValidationFailed
from booklnk.tenancy.context import BusinessContext
from booklnk.tenancy.service import get_business
from booklnk.web import rendering
from booklnk.web.guard import (
    FormDep,
    OwnerDep,
    SessionDep,
    SignedInDep,
    WebRoute,
    language_of,
    now_of,
    see_other,
    settings_of,
)
from booklnk.web.words import WORDS, field_rule

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# The recent deliveries shown at once; older ones a page further.
DELIVERIES_SHOWN = 20
# More endpoints than the settings allow (100 at most) never exist.
ENDPOINTS_SHOWN = 100
Done = Annotated[str | None, Query(pattern="^(enabled|disabled|removed|redelivered|added)$")]
After = Annotated[str | None, Query(max_length=200)]


@router.get("/desk/{business_id}/settings/webhooks")
async def webhooks_page(
    request: Request, business_id: uuid.UUID, tx: SessionDep, ctx: OwnerDep, done: Done = None
) -> Response:
    return await _list(request, tx, ctx, done=done)


@router.post("/desk/{business_id}/settings/webhooks")
async def add_webhook(
    request: Request,
    business_id: uuid.UUID,
    tx: SessionDep,
    actor: SignedInDep,
    posted: FormDep,
    ctx: OwnerDep,
) -> Response:
    language = language_of(request)
    events = [event for event in EVENT_TYPES if posted.get(f"event_{event}") == "on"]
    errors = _checked_input(posted, events, language)
    if errors:
        return await _list(request, tx, ctx, posted=posted, errors=errors, status_code=422)
    settings = settings_of(request)
    # The form once: sent again (a reload of the answer, a double tap) it adds nothing, and
    # says the endpoint was added, its secret already shown on the first answer.
    attempt = posted.get("attempt", "")[:64]
    scope = idempotency.Scope(ctx.business_id, actor.user_id, f"web-hook:{attempt}")
    fingerprint = idempotency.fingerprint("POST", request.url.path, sorted(posted.items()))
    if attempt and await idempotency.claim(tx, scope, fingerprint, now=now_of(request)) is not None:
        return see_other(f"/{language}/desk/{business_id}/settings/webhooks?done=added")
    try:
        endpoint = await service.register(
            tx,
            ctx,
            url=posted["url"].strip(),
            events=events,
            description=posted.get("description", "").strip(),
            policy=_policy(request),
            max_endpoints=settings.webhook_max_endpoints,
            now=now_of(request),
        )
    except ValidationFailed as refused:
        rule = refused.issues[0].rule if refused.issues else ""
        url_error = WORDS[language].get(f"hooks_url_{rule}", WORDS[language]["hooks_url_not_a_url"])
        return await _list(request, tx, ctx, posted=posted, errors={"url": url_error}, status_code=422)
    except TooManyEndpoints:
        full = WORDS[language]["hooks_too_many"].format(limit=settings.webhook_max_endpoints)
        return await _list(request, tx, ctx, posted=posted, errors={"_form": full}, status_code=409)
    if attempt:
        await idempotency.record(
            tx, scope, fingerprint, idempotency.StoredResponse(303, {}), now=now_of(request)
        )
    # The one time the secret is shown: on this answer, never stored in the page's
    # address or a cookie, and never logged (the page is not cached: `rendering.page`).
    return await _list(request, tx, ctx, created=endpoint)


@router.post("/desk/{business_id}/settings/webhooks/{endpoint_id}/enabled")
async def switch_webhook(
    request: Request,
    business_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    tx: SessionDep,
    posted: FormDep,
    ctx: OwnerDep,
) -> Response:
    enabled = posted.get("enabled") == "true"
    await service.change(tx, ctx, endpoint_id, {"enabled": enabled}, policy=_policy(request))
    done = "enabled" if enabled else "disabled"
    return see_other(f"/{language_of(request)}/desk/{business_id}/settings/webhooks?done={done}")


@router.get("/desk/{business_id}/settings/webhooks/{endpoint_id}/remove")
async def remove_webhook_page(
    request: Request, business_id: uuid.UUID, endpoint_id: uuid.UUID, tx: SessionDep, ctx: OwnerDep
) -> Response:
    language = language_of(request)
    endpoint = await service.get(tx, ctx, endpoint_id)
    return rendering.page(
        request,
        language,
        "settings_webhooks_remove.html",
        business=await get_business(tx, ctx.business_id),
        endpoint=endpoint,
        base=f"/{language}/desk/{business_id}",
    )


@router.post("/desk/{business_id}/settings/webhooks/{endpoint_id}/remove")
async def remove_webhook(
    request: Request,
    business_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    tx: SessionDep,
    ctx: OwnerDep,
    _: FormDep,
) -> Response:
    await service.delete(tx, ctx, endpoint_id)
    return see_other(f"/{language_of(request)}/desk/{business_id}/settings/webhooks?done=removed")


@router.get("/desk/{business_id}/settings/webhooks/{endpoint_id}")
async def deliveries_page(
    request: Request,
    business_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    tx: SessionDep,
    ctx: OwnerDep,
    done: Done = None,
    after: After = None,
) -> Response:
    return await _deliveries(request, tx, ctx, endpoint_id, done=done, after=after)


@router.post("/desk/{business_id}/settings/webhooks/{endpoint_id}/messages/{message_id}/redeliver")
async def redeliver(
    request: Request,
    business_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    message_id: uuid.UUID,
    tx: SessionDep,
    ctx: OwnerDep,
    _: FormDep,
) -> Response:
    try:
        await service.redeliver(tx, ctx, endpoint_id, message_id, now=now_of(request))
    except EndpointDisabled:
        problem = WORDS[language_of(request)]["hooks_enable_first"]
        return await _deliveries(request, tx, ctx, endpoint_id, problem=problem, status_code=409)
    path = f"/{language_of(request)}/desk/{business_id}/settings/webhooks/{endpoint_id}"
    return see_other(f"{path}?done=redelivered")


def _policy(request: Request) -> TargetPolicy:
    settings = settings_of(request)
    return policy_for(settings.environment, settings.webhook_allow_private_targets)


def _checked_input(posted: Mapping[str, str], events: list[str], language: str) -> dict[str, str]:
    """The form's problems by field, judged by the API's own shape of a new endpoint."""
    errors: dict[str, str] = {}
    url = posted.get("url", "")
    body = {"url": url, "events": events, "description": posted.get("description", "")}
    try:
        EndpointCreate.model_validate(body)
    except ValidationError as invalid:
        for error in invalid.errors(include_url=False):
            name = str(error["loc"][0]) if error["loc"] else "_form"
            errors.setdefault(name, _field_problem(name, error["type"], language))
    return errors


def _field_problem(name: str, rule: str, language: str) -> str:
    words = WORDS[language]
    if name == "events":
        return words["hooks_choose_events"]
    if name == "url" and rule == "string_too_long":
        return words["hooks_url_too_long"]
    if name == "url":
        return field_rule(language, "missing")
    return field_rule(language, rule)


async def _list(
    request: Request,
    tx: SessionDep,
    ctx: BusinessContext,
    *,
    done: str | None = None,
    created: WebhookEndpoint | None = None,
    posted: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    language = language_of(request)
    endpoints, _next = await service.list_page(tx, ctx, cursor=None, limit=ENDPOINTS_SHOWN)
    form = posted or {}
    return rendering.page(
        request,
        language,
        "settings_webhooks.html",
        status_code=status_code,
        business=await get_business(tx, ctx.business_id),
        zone=ctx.time_zone,
        endpoints=endpoints,
        created=created,
        done=done,
        attempt=form.get("attempt") or uuid.uuid4().hex,
        events=[(event, f"event_{event}" in form) for event in EVENT_TYPES],
        event_names=_event_names(language),
        posted=form,
        errors=errors or {},
        base=f"/{language}/desk/{ctx.business_id}",
    )


async def _deliveries(
    request: Request,
    tx: SessionDep,
    ctx: BusinessContext,
    endpoint_id: uuid.UUID,
    *,
    done: str | None = None,
    after: str | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    language = language_of(request)
    endpoint = await service.get(tx, ctx, endpoint_id)
    views, next_cursor = await service.messages(tx, ctx, endpoint_id, cursor=after, limit=DELIVERIES_SHOWN)
    return rendering.page(
        request,
        language,
        "settings_webhooks_deliveries.html",
        status_code=status_code,
        business=await get_business(tx, ctx.business_id),
        zone=ctx.time_zone,
        endpoint=endpoint,
        deliveries=[_delivery(view) for view in views],
        next_cursor=next_cursor,
        event_names=_event_names(language),
        done=done,
        problem=problem,
        base=f"/{language}/desk/{ctx.business_id}",
    )


def _delivery(view: service.MessageView) -> dict[str, Any]:
    """A message as a row: its newest attempt says what the endpoint last answered."""
    last = max(view.attempts, key=lambda attempt: attempt.number, default=None)
    return {
        "message": view.message,
        "last": last,
        "payload": json.dumps(view.payload, ensure_ascii=False, indent=2),
    }


def _event_names(language: str) -> dict[str, str]:
    words = WORDS[language]
    return {event: words["hooks_event_" + event.replace(".", "_")] for event in EVENT_TYPES}
