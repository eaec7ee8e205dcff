"""What the messaging providers tell us after accepting a message: WhatsApp's status
webhooks (and its subscription handshake) and the SMS gateway's delivery reports. Each is
verified before anything is read, then kept once against its message (notifications.reports).

Not rate-limited per address: every business's reports come from the providers' few
addresses, and an unsigned one is refused before the database is touched; the body is
capped by the webhook size limit."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import PlainTextResponse

from booklnk.api.deps import DatabaseDep, NowDep, SettingsDep
from booklnk.api.problems import problem_responses
from booklnk.bootstrap import derived_key, whatsapp_config
from booklnk.notifications import reports, sms, whatsapp
from booklnk.notifications.errors import ReportRejected, VerifyTokenRejected
from booklnk.notifications.schemas import ReportsAck

router = APIRouter(tags=["messages"])
WHATSAPP_PATH = "/v1/webhooks/whatsapp"
CEQUENS_PATH = "/v1/webhooks/cequens"


@router.get(
    WHATSAPP_PATH,
    summary="WhatsApp's webhook subscription handshake",
    description="Meta calls it once when the webhook is set up: `hub.mode=subscribe` with our verify "
    "token answers the challenge as plain text; anything else 403 `verify_token_rejected`.",
    response_class=PlainTextResponse,
    responses=problem_responses(403),
    openapi_extra={"security": []},
)
async def whatsapp_handshake(
    settings: SettingsDep,
    mode: Annotated[str, Query(alias="hub.mode", max_length=32)] = "",
    token: Annotated[str, Query(alias="hub.verify_token", max_length=256)] = "",
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=256)] = "",
) -> PlainTextResponse:
    answer = whatsapp.subscription_challenge(whatsapp_config(settings), mode, token, challenge)
    if answer is None or "whatsapp" not in settings.message_channels:
        raise VerifyTokenRejected("Not this webhook's verify token.")
    return PlainTextResponse(answer)


@router.post(
    WHATSAPP_PATH,
    summary="WhatsApp's status webhook",
    description="Verified against the app secret (`X-Hub-Signature-256`) before it is read; each status "
    "(`sent`, `delivered`, `read`, `failed`) is kept once against its message; a `failed` one hands the "
    "message to the customer's next channel. Inbound customer messages are acknowledged and not kept. "
    "Unsigned or wrongly signed (or WhatsApp not among this deployment's channels): 401 "
    "`webhook_rejected`.",
    response_model=ReportsAck,
    responses=problem_responses(401, 413),
    openapi_extra={"security": []},
)
async def whatsapp_statuses(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    x_hub_signature_256: Annotated[str | None, Header(max_length=200)] = None,
) -> ReportsAck:
    body = await request.body()
    secret = settings.whatsapp_app_secret.get_secret_value()
    # A deployment without WhatsApp has no secret worth the name (unset, or the simulator's):
    # it takes no status webhook at all.
    on = "whatsapp" in settings.message_channels
    if not on or not whatsapp.verify_signature(secret, body, x_hub_signature_256):
        raise ReportRejected("Unsigned or wrongly signed: nothing was applied.")
    try:
        payload: Any = json.loads(body)
    except ValueError:
        payload = None
    applied = 0
    for update in whatsapp.parse_statuses(payload if isinstance(payload, dict) else {}):
        if update.reference is None:
            continue  # (a message sent by someone else on the same number)
        report = reports.Report(update.reference, update.status, update.at, update.error_code)
        applied += await reports.apply(db, report, now=now) == "applied"
    return ReportsAck(applied=applied)


@router.post(
    CEQUENS_PATH,
    summary="The SMS gateway's delivery report",
    description="Cequens calls the `dlrUrl` each message was sent with: `ref` names the message and `sig` "
    "is our signature of it, so a report for a message we did not send cannot be forged. The report's "
    "fields come as JSON or as query parameters. Delivered or undelivered is kept once; undelivered hands "
    "the message to the customer's next channel. A wrong signature: 401 `webhook_rejected`.",
    response_model=ReportsAck,
    responses=problem_responses(401, 413),
    openapi_extra={"security": []},
)
async def sms_report(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    ref: Annotated[str, Query(max_length=100)] = "",
    sig: Annotated[str, Query(max_length=128)] = "",
) -> ReportsAck:
    on = "sms" in settings.message_channels
    if not on or not sms.verify_report(derived_key(settings, "sms delivery reports"), ref, sig):
        raise ReportRejected("Unsigned or wrongly signed: nothing was applied.")
    fields: dict[str, Any] = {k: v for k, v in request.query_params.items() if k not in ("ref", "sig")}
    body = await request.body()
    if body:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            fields.update(parsed)
    found = sms.parse_report(fields)
    if found is None:
        return ReportsAck(applied=0)
    report = reports.Report(ref, found.status, found.at or now)
    return ReportsAck(applied=int(await reports.apply(db, report, now=now) == "applied"))
