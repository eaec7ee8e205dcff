"""A WhatsApp Cloud API simulator: Meta's send endpoint, checked the way Meta checks it, and
the signed status webhooks that follow, so the channel is exercised over real HTTP.

Meta's side:
- ``POST /{version}/{phone_number_id}/messages``: template messages from `TEMPLATES` only
  (Booklnk sends nothing else); answers as Meta does, then posts ``sent`` and ``delivered``
  (or ``failed``) status webhooks to ``webhook_url``, signed with the app secret.

Admin side (unauthenticated: a local tool):
- ``GET|DELETE /__sim/messages`` (``?to=`` filters), newest first;
- ``POST|GET|DELETE /__sim/faults``: ``{"status": 500, "count": n}`` or ``{"code": 130429,
  "count": n}`` (the next n sends fail so), ``{"unreachable": [...]}`` (accepted, then a
  ``failed`` 131026 webhook), ``{"not_on_whatsapp": [...]}`` (refused at once, 131026);
- ``POST /__sim/inbound`` ``{"from": "2010…", "text": "…"}``: a customer's message webhook.

Every webhook made is kept (`WhatsAppSim.callbacks`): a test running the app in-process can
post them itself."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
import structlog
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from booklnk.notifications.simulators.threaded import ServerThread, until_shutdown
from booklnk.notifications.whatsapp import TEMPLATES, WhatsAppTemplate

log = structlog.get_logger(__name__)

# What the simulator keeps: the newest only, a simulator left running must not grow for ever.
KEPT = 500
_BY_NAME: Mapping[str, WhatsAppTemplate] = {t.name: t for t in TEMPLATES.values()}
_NUMBER = re.compile(r"\+?([0-9]{8,15})")
_BAD_SPACE = re.compile(r"[\r\n\t]| {5,}")
# Meta's HTTP status for an error code (most are 400).
_HTTP_STATUS = {0: 401, 190: 401, 10: 403, 4: 429, 80007: 429, 130429: 429, 131056: 429, 132001: 404}


@dataclass
class SimMessage:
    id: str
    to: str
    template: str
    language: str
    category: str
    parameters: dict[str, str]
    text: str
    reference: str | None
    statuses: list[str] = field(default_factory=lambda: ["accepted"])

    def summary(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Callback:
    """One webhook as made: the exact bytes signed, and the headers sent with them."""

    body: bytes
    headers: Mapping[str, str]


class Rejected(Exception):
    """A send answered with Meta's error body."""

    def __init__(self, code: int, message: str, details: str | None = None, status: int | None = None):
        super().__init__(message)
        self.code, self.message, self.details = code, message, details
        self.status = status or _HTTP_STATUS.get(code, 400)


class WhatsAppSim:
    """The simulator's state, shared by the server's thread and the test's: every access
    under one lock."""

    def __init__(
        self,
        *,
        access_token: str,
        app_secret: str,
        webhook_url: str | None = None,
        retry_delays: Sequence[float] = (0.2, 0.5, 1.0),
    ) -> None:
        self.access_token = access_token
        self.app_secret = app_secret
        self.webhook_url = webhook_url
        self.retry_delays = tuple(retry_delays)
        self._lock = threading.Lock()
        self._messages: deque[SimMessage] = deque(maxlen=KEPT)
        self._callbacks: deque[Callback] = deque(maxlen=KEPT)
        self._answer: Rejected | None = None  # the next `_answer_count` sends get it
        self._answer_count = 0
        self._unreachable: set[str] = set()
        self._not_on_whatsapp: set[str] = set()

    def authorized(self, header: str | None) -> bool:
        given = (header or "").removeprefix("Bearer ").encode()
        return bool(header and header.startswith("Bearer ")) and hmac.compare_digest(
            given, self.access_token.encode()
        )

    # --- faults ---

    def set_faults(self, faults: Mapping[str, Any]) -> None:
        """Checked whole before any of it applies (ValueError)."""
        count, status, code = faults.get("count", 1), faults.get("status"), faults.get("code", 131000)
        if not isinstance(count, int) or count < 0 or not isinstance(code, int):
            raise ValueError("count and code must be whole numbers")
        if status is not None and (not isinstance(status, int) or not 400 <= status <= 599):
            raise ValueError("status must be an HTTP error status")
        unreachable = _numbers(faults.get("unreachable", []))
        not_on_whatsapp = _numbers(faults.get("not_on_whatsapp", []))
        with self._lock:
            if "status" in faults or "code" in faults:
                self._answer = Rejected(code, "Simulated failure", status=status)
                self._answer_count = count
            self._unreachable |= unreachable
            self._not_on_whatsapp |= not_on_whatsapp

    def clear_faults(self) -> None:
        with self._lock:
            self._answer = None
            self._answer_count = 0
            self._unreachable = set()
            self._not_on_whatsapp = set()

    def faults(self) -> dict[str, Any]:
        with self._lock:
            answer = self._answer
            return {
                "status": answer.status if answer and self._answer_count else None,
                "code": answer.code if answer and self._answer_count else None,
                "count": self._answer_count,
                "unreachable": sorted(self._unreachable),
                "not_on_whatsapp": sorted(self._not_on_whatsapp),
            }

    def take_fault(self) -> Rejected | None:
        with self._lock:
            if self._answer is None or self._answer_count <= 0:
                return None
            self._answer_count -= 1
            return self._answer

    def reachability(self, number: str) -> tuple[bool, bool]:
        """(on WhatsApp at all, reachable now)."""
        with self._lock:
            return number not in self._not_on_whatsapp, number not in self._unreachable

    # --- messages and webhooks ---

    def record(self, message: SimMessage) -> None:
        with self._lock:
            self._messages.append(message)

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        wanted = to.removeprefix("+") if to else None
        with self._lock:
            return [m.summary() for m in reversed(self._messages) if wanted is None or m.to == wanted]

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self._callbacks.clear()

    def sign(self, payload: Mapping[str, Any]) -> Callback:
        """A webhook as Meta sends it: non-ASCII escaped, and those bytes signed."""
        body = json.dumps(payload, ensure_ascii=True).encode()
        digest = hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()
        callback = Callback(
            body, {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}
        )
        with self._lock:
            self._callbacks.append(callback)
        return callback

    def callbacks(self) -> list[Callback]:
        with self._lock:
            return list(self._callbacks)


def _numbers(value: object) -> set[str]:
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        raise ValueError("a list of phone numbers is expected")
    return {n.removeprefix("+") for n in value}


def _wamid() -> str:
    return "wamid." + secrets.token_urlsafe(36)


def _error_response(rejected: Rejected) -> JSONResponse:
    error: dict[str, Any] = {
        "message": f"(#{rejected.code}) {rejected.message}",
        "type": "OAuthException",
        "code": rejected.code,
        "fbtrace_id": secrets.token_urlsafe(12),
    }
    if rejected.details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": rejected.details}
    return JSONResponse({"error": error}, status_code=rejected.status)


# --- a send, checked as Meta checks it ---


def _check_send(body: object) -> tuple[str, WhatsAppTemplate, str, dict[str, str]]:
    """(recipient digits, template, language code, its blanks) or Rejected."""
    if not isinstance(body, Mapping):
        raise Rejected(100, "Invalid parameter", "The request body must be a JSON object")
    if body.get("messaging_product") != "whatsapp":
        raise Rejected(100, "Invalid parameter", "messaging_product must be whatsapp")
    number = _NUMBER.fullmatch(to) if isinstance(to := body.get("to"), str) else None
    if number is None:
        raise Rejected(131009, "Parameter value is not valid", "to must be a phone number")
    if body.get("type") != "template":
        raise Rejected(100, "Invalid parameter", "this simulator takes template messages only")
    sent = body.get("template")
    name = sent.get("name") if isinstance(sent, Mapping) else None
    template = _BY_NAME.get(name) if isinstance(name, str) else None
    language = sent.get("language") if isinstance(sent, Mapping) else None
    code = language.get("code") if isinstance(language, Mapping) else None
    if template is None or not isinstance(code, str) or code not in template.text:
        raise Rejected(132001, "Template name does not exist in the translation", f"{name} ({code})")
    assert isinstance(sent, Mapping)
    return number.group(1), template, code, _check_parameters(template, sent.get("components"))


def _component(components: object, kind: str, url_index: int | None = None) -> list[Any]:
    """The parameters of the first component of `kind` (a button: the url button at
    `url_index`)."""
    for component in components if isinstance(components, list) else []:
        if not isinstance(component, Mapping) or component.get("type") != kind:
            continue
        if url_index is None or (
            component.get("sub_type") == "url" and str(component.get("index")) == str(url_index)
        ):
            parameters = component.get("parameters")
            return parameters if isinstance(parameters, list) else []
    return []


def _text(parameter: object) -> str:
    text = parameter.get("text") if isinstance(parameter, Mapping) else None
    if not isinstance(parameter, Mapping) or parameter.get("type") != "text" or not isinstance(text, str):
        raise Rejected(131008, "Required parameter is missing", "each parameter needs a text")
    if not text.strip() or _BAD_SPACE.search(text):
        raise Rejected(131009, "Parameter value is not valid", "no new-lines, tabs or 5 spaces in a row")
    return text


def _check_parameters(template: WhatsAppTemplate, components: object) -> dict[str, str]:
    body = _component(components, "body")
    if template.category == "AUTHENTICATION":
        button = _component(components, "button", 0)
        if len(body) != 1 or len(button) != 1:
            raise Rejected(132000, "Number of parameters does not match the expected number of params")
        code, again = _text(body[0]), _text(button[0])
        if code != again or len(code) > 15:
            raise Rejected(131009, "Parameter value is not valid", "one code of up to 15 characters")
        return {"code": code}
    names = [p.get("parameter_name") if isinstance(p, Mapping) else None for p in body]
    if sorted(map(str, names)) != sorted(template.parameters):
        raise Rejected(132000, "Number of parameters does not match the expected number of params")
    return {str(p["parameter_name"]): _text(p) for p in body}


def _readable(template: WhatsAppTemplate, language: str, parameters: Mapping[str, str]) -> str:
    text = template.text[language]
    for name, value in parameters.items():
        text = text.replace("{{" + ("1" if template.category == "AUTHENTICATION" else name) + "}}", value)
    return text


def _status_payload(phone_number_id: str, message: SimMessage, status: str) -> dict[str, Any]:
    update: dict[str, Any] = {
        "id": message.id,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": message.to,
    }
    if message.reference is not None:
        update["biz_opaque_callback_data"] = message.reference
    if status == "failed":
        update["errors"] = [
            {
                "code": 131026,
                "title": "Message undeliverable",
                "message": "Message undeliverable",
                "error_data": {"details": "Message Undeliverable."},
            }
        ]
    else:
        update["pricing"] = {"billable": True, "pricing_model": "PMP", "category": message.category.lower()}
    return _webhook(phone_number_id, {"statuses": [update]})


def _webhook(phone_number_id: str, value: Mapping[str, Any]) -> dict[str, Any]:
    metadata = {"display_phone_number": "15550000000", "phone_number_id": phone_number_id}
    change = {"field": "messages", "value": {"messaging_product": "whatsapp", "metadata": metadata, **value}}
    return {"object": "whatsapp_business_account", "entry": [{"id": "0", "changes": [change]}]}


@until_shutdown
async def deliver(state: WhatsAppSim, callbacks: Sequence[Callback]) -> None:
    """Post each webhook in turn to `webhook_url`, trying again a few times on anything but
    200 (as Meta does, for days; here, seconds)."""
    url = state.webhook_url
    if url is None:
        return
    async with httpx.AsyncClient(timeout=5.0) as http:
        for callback in callbacks:
            for delay in (*state.retry_delays, None):
                try:
                    response = await http.post(url, content=callback.body, headers=dict(callback.headers))
                    if response.status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if delay is None:
                    log.warning("whatsapp_sim_webhook_dropped")
                    break
                await asyncio.sleep(delay)


def app(state: WhatsAppSim) -> Starlette:
    async def send(request: Request) -> Response:
        if not state.authorized(request.headers.get("authorization")):
            return _error_response(Rejected(190, "Invalid OAuth access token - Cannot parse access token"))
        if (fault := state.take_fault()) is not None:
            return _error_response(fault)
        try:
            try:
                body = await request.json()
            except ValueError:
                raise Rejected(100, "Invalid parameter", "The request body must be JSON") from None
            to, template, language, parameters = _check_send(body)
            on_whatsapp, reachable = state.reachability(to)
            if not on_whatsapp:
                raise Rejected(131026, "Message undeliverable", "The recipient is not on WhatsApp")
        except Rejected as rejected:
            return _error_response(rejected)
        reference = body.get("biz_opaque_callback_data")
        message = SimMessage(
            id=_wamid(),
            to=to,
            template=template.name,
            language=language,
            category=template.category,
            parameters=parameters,
            text=_readable(template, language, parameters),
            reference=reference[:512] if isinstance(reference, str) else None,
        )
        message.statuses.extend(["sent", "delivered"] if reachable else ["failed"])
        state.record(message)
        phone_number_id = request.path_params["phone_number_id"]
        callbacks = [
            state.sign(_status_payload(phone_number_id, message, status)) for status in message.statuses[1:]
        ]
        log.info("whatsapp_sim_accepted", id=message.id, template=message.template)
        answer = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": body["to"], "wa_id": to}],
            "messages": [{"id": message.id, "message_status": "accepted"}],
        }
        return JSONResponse(answer, background=BackgroundTask(deliver, state, callbacks))

    async def messages(request: Request) -> Response:
        if request.method == "DELETE":
            state.clear()
            return Response(status_code=204)
        return JSONResponse(state.messages(request.query_params.get("to")))

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            state.clear_faults()
        elif request.method == "POST":
            try:
                given = await request.json()
                if not isinstance(given, Mapping):
                    raise ValueError("a JSON object is expected")
                state.set_faults(given)
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(state.faults())

    async def inbound(request: Request) -> Response:
        try:
            given = await request.json()
            number = _NUMBER.fullmatch(str(given["from"]))
            text = str(given.get("text", "Hello"))
        except (ValueError, KeyError, TypeError, AttributeError):
            number = None
        if number is None:
            return JSONResponse({"error": '{"from": "2010…", "text": "…"} is expected'}, status_code=400)
        wamid = _wamid()
        found = {
            "contacts": [{"profile": {"name": str(given.get("name", "Customer"))}, "wa_id": number.group(1)}],
            "messages": [
                {
                    "from": number.group(1),
                    "id": wamid,
                    "timestamp": str(int(time.time())),
                    "type": "text",
                    "text": {"body": text},
                }
            ],
        }
        callback = state.sign(_webhook(str(given.get("phone_number_id", "0")), found))
        return JSONResponse({"id": wamid}, background=BackgroundTask(deliver, state, [callback]))

    return Starlette(
        routes=[
            Route("/{version}/{phone_number_id}/messages", send, methods=["POST"]),
            Route("/__sim/messages", messages, methods=["GET", "DELETE"]),
            Route("/__sim/faults", faults, methods=["GET", "POST", "DELETE"]),
            Route("/__sim/inbound", inbound, methods=["POST"]),
        ]
    )


def start(state: WhatsAppSim, host: str = "127.0.0.1", port: int = 0) -> ServerThread:
    """The simulator, served from a background thread."""
    return ServerThread(app(state), host=host, port=port).start()
