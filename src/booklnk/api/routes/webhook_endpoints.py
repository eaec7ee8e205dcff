"""Outgoing webhooks: an owner's endpoints, their delivery log and redelivery (owners only)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, status

from booklnk.api.created import CreatedDep
from booklnk.api.deps import NowDep, OwnerCtx, SessionDep, SettingsDep
from booklnk.api.pagination import PAGED, CursorQuery, LimitQuery, Page
from booklnk.api.problems import problem_responses
from booklnk.config import Settings
from booklnk.integrations import service, signing
from booklnk.integrations.catalogue import EVENT_TYPES
from booklnk.integrations.schedule import RETRY_DELAYS
from booklnk.integrations.schemas import (
    AttemptOut,
    EndpointCreate,
    EndpointCreated,
    EndpointOut,
    EndpointUpdate,
    WebhookMessageOut,
)
from booklnk.integrations.targets import TargetPolicy, policy_for

router = APIRouter(prefix="/v1/businesses/{business_id}/webhook-endpoints", tags=["webhooks"])
EndpointId = Annotated[uuid.UUID, Path(description="A webhook endpoint of this business.")]
MessageId = Annotated[uuid.UUID, Path(description="A message sent (or to send) to this endpoint.")]
NOT_FOUND = "404 `webhook_endpoint_not_found`."
URL_RULES = (
    "A 422 names the field and the rule: `body.url` (`too_long`, `not_a_url`, `https_required` in "
    "production, `credentials`, `private_address` — its host resolves to a private, loopback, "
    "link-local, multicast or reserved address, refused in production —, `unresolvable`), `body.events` "
    "(`unknown_event`, "
    "`duplicate_event`)."
)


def _policy(settings: Settings) -> TargetPolicy:
    return policy_for(settings.environment, settings.webhook_allow_private_targets)


def _message_out(view: service.MessageView) -> WebhookMessageOut:
    m = view.message
    return WebhookMessageOut(
        id=m.id,
        webhook_id=signing.message_id(m.id),
        event_type=m.event_type,
        status=m.status.value,
        attempts=m.attempts,
        next_attempt_at=m.next_attempt_at,
        created_at=m.created_at,
        delivered_at=m.delivered_at,
        payload=view.payload,
        attempt_log=[AttemptOut.model_validate(a) for a in view.attempts],
    )


@router.post(
    "",
    summary="Register a webhook endpoint",
    description="Owners only. Events go to `url` as signed POSTs (Standard Webhooks: `webhook-id`, "
    "`webhook-timestamp`, `webhook-signature`). The answer carries the signing `secret` (`whsec_…`): it is "
    f"shown this once. Events: {', '.join(EVENT_TYPES)}. {URL_RULES} A business has at most "
    "`BOOKLNK_WEBHOOK_MAX_ENDPOINTS` (10) endpoints: 409 `too_many_webhook_endpoints`.",
    status_code=status.HTTP_201_CREATED,
    response_model=EndpointCreated,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_webhook_endpoint(
    body: EndpointCreate,
    ctx: OwnerCtx,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    created: CreatedDep,
) -> EndpointCreated:
    endpoint = await service.register(
        session,
        ctx,
        url=body.url,
        events=body.events,
        description=body.description,
        policy=_policy(settings),
        max_endpoints=settings.webhook_max_endpoints,
        now=now,
    )
    created.at_key(endpoint.id)
    return EndpointCreated.model_validate(endpoint)


@router.get(
    "",
    summary="List webhook endpoints",
    description=f"Owners only; oldest first, without their secrets. {PAGED}",
    response_model=Page[EndpointOut],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_webhook_endpoints(
    ctx: OwnerCtx, session: SessionDep, cursor: CursorQuery = None, limit: LimitQuery = 50
) -> Page[EndpointOut]:
    found, next_cursor = await service.list_page(session, ctx, cursor=cursor, limit=limit)
    return Page(items=[EndpointOut.model_validate(e) for e in found], next_cursor=next_cursor)


@router.get(
    "/{endpoint_id}",
    summary="Get a webhook endpoint",
    description=f"Owners only, without its secret; `disabled_reason` says why it was disabled. {NOT_FOUND}",
    response_model=EndpointOut,
    responses=problem_responses(401, 403, 404),
)
async def get_webhook_endpoint(endpoint_id: EndpointId, ctx: OwnerCtx, session: SessionDep) -> EndpointOut:
    return EndpointOut.model_validate(await service.get(session, ctx, endpoint_id))


@router.patch(
    "/{endpoint_id}",
    summary="Change a webhook endpoint (omitted fields stay as they are)",
    description="Owners only: `url`, `events`, `description`, `enabled` (`true` re-enables one disabled "
    f"after failing; its reason is cleared). {URL_RULES} {NOT_FOUND}",
    response_model=EndpointOut,
    responses=problem_responses(401, 403, 404, 422),
)
async def update_webhook_endpoint(
    endpoint_id: EndpointId, body: EndpointUpdate, ctx: OwnerCtx, session: SessionDep, settings: SettingsDep
) -> EndpointOut:
    endpoint = await service.change(session, ctx, endpoint_id, body.changes(), policy=_policy(settings))
    return EndpointOut.model_validate(endpoint)


@router.delete(
    "/{endpoint_id}",
    summary="Delete a webhook endpoint, its messages and their log",
    description=f"Owners only. {NOT_FOUND}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404),
)
async def delete_webhook_endpoint(endpoint_id: EndpointId, ctx: OwnerCtx, session: SessionDep) -> None:
    await service.delete(session, ctx, endpoint_id)


_SCHEDULE = ", ".join(str(int(d.total_seconds())) for d in RETRY_DELAYS)


@router.get(
    "/{endpoint_id}/messages",
    summary="An endpoint's messages and every delivery attempt",
    description="Owners only; newest first. Each message with its status (`pending`, `delivered`, "
    "`failed`), its `webhook-id`, the payload sent and its attempts (status code, the start of the answer, "
    f"duration, error). A failed attempt is tried again after {_SCHEDULE} seconds (about a day in all). "
    f"{PAGED} {NOT_FOUND}",
    response_model=Page[WebhookMessageOut],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_webhook_messages(
    endpoint_id: EndpointId,
    ctx: OwnerCtx,
    session: SessionDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[WebhookMessageOut]:
    views, next_cursor = await service.messages(session, ctx, endpoint_id, cursor=cursor, limit=limit)
    return Page(items=[_message_out(v) for v in views], next_cursor=next_cursor)


@router.post(
    "/{endpoint_id}/messages/{message_id}/redeliver",
    summary="Send a message again",
    description="Owners only. The message is sent again at once, with the same `webhook-id` and a fresh "
    "retry schedule. 409 `webhook_endpoint_disabled` while the endpoint is disabled; 404 "
    "`webhook_endpoint_not_found`, `webhook_message_not_found`.",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=WebhookMessageOut,
    responses=problem_responses(401, 403, 404, 409),
)
async def redeliver_webhook_message(
    endpoint_id: EndpointId, message_id: MessageId, ctx: OwnerCtx, session: SessionDep, now: NowDep
) -> WebhookMessageOut:
    return _message_out(await service.redeliver(session, ctx, endpoint_id, message_id, now=now))
