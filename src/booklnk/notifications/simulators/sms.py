"""A Cequens stand-in (PROTOCOLS.md §2): the sign-in and send endpoints as the channel calls
them, with the gateway's checks and reply codes, and the delivery report posted back to the
message's `dlrUrl`. It keeps what it is sent, for a developer or a test to read.

Cequens' side:
- ``POST /auth/v1/tokens`` ``{"userName", "apiKey"}`` → ``data.access_token``;
- ``POST /sms/v1/messages`` with ``Authorization: Bearer <token>``.

Admin side (unauthenticated: a local simulator):
- ``GET /__sim/messages?to=<digits or +E.164>`` newest first; ``DELETE /__sim/messages``;
- ``POST /__sim/faults`` ``{"status": 500, "count": n}`` or ``{"replyCode": -17, "count": n}``
  (the next n sends fail so), ``{"undeliverable": ["2010…"]}`` (reports say 2 for those),
  ``{"wrongCredentials": true}`` (sign-ins answer 401); ``DELETE /__sim/faults`` clears all;
- ``DELETE /__sim/tokens`` forgets the issued tokens, as their expiry would.

What is not verified against the real gateway is marked ⚠."""

from __future__ import annotations

import asyncio
import secrets
import threading
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from booklnk.notifications.simulators.threaded import ServerThread, until_shutdown
from booklnk.notifications.sms import segments

log = structlog.get_logger(__name__)

# The store keeps the newest messages only: a simulator left running must not grow for ever.
KEPT = 500
MAX_PARTS = 20
# Delivery report attempts: the first at once, then after these pauses (seconds).
REPORT_RETRY_DELAYS = (0.2, 1.0, 3.0)


@dataclass(slots=True)
class SimSms:
    id: str
    to: str
    sender: str
    type: str
    text: str
    parts: int
    submitted_at: datetime
    dlr_url: str | None
    # "delivered" / "undelivered" once decided; None when no report was asked for.
    report: str | None = None
    # Whether the report reached dlrUrl (a 2xx), and after how many tries.
    report_posted: bool = False
    report_attempts: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "to": self.to,
            "sender": self.sender,
            "type": self.type,
            "text": self.text,
            "segments": self.parts,
            "submittedAt": self.submitted_at.isoformat(),
            "report": self.report,
            "reportPosted": self.report_posted,
            "reportAttempts": self.report_attempts,
        }


@dataclass(slots=True)
class _Fault:
    status: int | None
    reply_code: int | None
    remaining: int


@dataclass(slots=True)
class SmsStore:
    """What the simulator was sent and how it is told to behave; shared by the server's
    thread and a test's, hence the lock."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _messages: deque[SimSms] = field(default_factory=lambda: deque(maxlen=KEPT))
    _tokens: set[str] = field(default_factory=set)
    _faults: list[_Fault] = field(default_factory=list)
    _undeliverable: set[str] = field(default_factory=set)
    wrong_credentials: bool = False

    def issue_token(self) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens.add(token)
        return token

    def token_valid(self, token: str) -> bool:
        with self._lock:
            return token in self._tokens

    def revoke_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    def add_fault(self, *, status: int | None, reply_code: int | None, count: int) -> None:
        with self._lock:
            self._faults.append(_Fault(status, reply_code, count))

    def take_fault(self) -> _Fault | None:
        """The fault the next send is to answer with, if any (each is used `count` times)."""
        with self._lock:
            while self._faults and self._faults[0].remaining <= 0:
                self._faults.pop(0)
            if not self._faults:
                return None
            self._faults[0].remaining -= 1
            return self._faults[0]

    def mark_undeliverable(self, numbers: list[str]) -> None:
        with self._lock:
            self._undeliverable.update(n.removeprefix("+") for n in numbers)

    def deliverable(self, number: str) -> bool:
        with self._lock:
            return number not in self._undeliverable

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._undeliverable.clear()
            self.wrong_credentials = False

    def add(self, sms: SimSms) -> None:
        with self._lock:
            self._messages.append(sms)

    def update(self, sms: SimSms, **changes: Any) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(sms, name, value)

    def newest_first(self, to: str | None = None) -> list[SimSms]:
        wanted = to.removeprefix("+") if to else None
        with self._lock:
            return [m for m in reversed(self._messages) if wanted is None or m.to == wanted]

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()


def _reply(code: int, message: str, status: int = 200, data: Any = None) -> JSONResponse:
    """An answer in Cequens' shape. ⚠ The HTTP status that comes with an error code is not
    documented: 400 here (the channel reads the code, whatever the status)."""
    body = {"replyCode": code, "replyMessage": message, "requestId": str(uuid.uuid4()), "data": data}
    return JSONResponse(body, status_code=status)


async def _json_object(request: Request) -> Mapping[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, Mapping) else None


def app(store: SmsStore) -> Starlette:
    async def sign_in(request: Request) -> Response:
        body = await _json_object(request)
        if body is None or not all(isinstance(body.get(k), str) and body[k] for k in ("userName", "apiKey")):
            return _reply(-1, "userName and apiKey are required", 400)  # ⚠ code unverified
        if store.wrong_credentials:
            return _reply(-1, "Invalid credentials", 401)  # ⚠ code unverified
        return _reply(0, "Request handled successfully", data={"access_token": store.issue_token()})

    async def send(request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not store.token_valid(token.strip()):
            return _reply(-1, "Unauthorized", 401)  # ⚠ code unverified
        if (fault := store.take_fault()) is not None:
            if fault.status is not None:
                return JSONResponse({"message": "simulated failure"}, status_code=fault.status)
            return _reply(fault.reply_code or -1, "simulated failure", 400)
        body = await _json_object(request)
        if body is None:
            return _reply(-1, "body must be a JSON object", 400)  # ⚠ code unverified
        failed = _check(body)
        if failed is not None:
            return _reply(*failed, 400)
        sms = SimSms(
            id=str(uuid.uuid4()),
            to=body["recipients"],
            sender=body["senderName"],
            type=body["messageType"],
            text=body["messageText"],
            parts=segments(body["messageText"]).count,
            submitted_at=datetime.now(UTC),
            dlr_url=body.get("dlrUrl") or None,
        )
        store.add(sms)
        log.info("sms_received", id=sms.id, to=sms.to, type=sms.type, segments=sms.parts)
        data = {"SentSMSIDs": [{"SMSId": sms.id}], "InvalidRecipients": ""}
        answer = _reply(0, "Request handled successfully", data=data)
        if sms.dlr_url is not None:
            answer.background = BackgroundTask(_report, store, sms)
        return answer

    async def messages(request: Request) -> Response:
        if request.method == "DELETE":
            store.clear()
            return Response(status_code=204)
        return JSONResponse([m.summary() for m in store.newest_first(request.query_params.get("to"))])

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            store.clear_faults()
            return Response(status_code=204)
        body = await _json_object(request)
        if body is None:
            return JSONResponse({"error": "a JSON object is required"}, status_code=400)
        count = body.get("count", 1)
        if not isinstance(count, int) or count < 1:
            return JSONResponse({"error": "count must be a positive integer"}, status_code=400)
        if isinstance(body.get("status"), int):
            store.add_fault(status=body["status"], reply_code=None, count=count)
        elif isinstance(body.get("replyCode"), int):
            store.add_fault(status=None, reply_code=body["replyCode"], count=count)
        if isinstance(numbers := body.get("undeliverable"), list):
            store.mark_undeliverable([str(n) for n in numbers])
        if isinstance(wrong := body.get("wrongCredentials"), bool):
            store.wrong_credentials = wrong
        return Response(status_code=204)

    async def tokens(request: Request) -> Response:
        store.revoke_tokens()
        return Response(status_code=204)

    return Starlette(
        routes=[
            Route("/auth/v1/tokens", sign_in, methods=["POST"]),
            Route("/sms/v1/messages", send, methods=["POST"]),
            Route("/__sim/messages", messages, methods=["GET", "DELETE"]),
            Route("/__sim/faults", faults, methods=["POST", "DELETE"]),
            Route("/__sim/tokens", tokens, methods=["DELETE"]),
        ]
    )


def _check(body: Mapping[str, Any]) -> tuple[int, str] | None:
    """The gateway's checks of a send, in its reply codes (PROTOCOLS.md §2)."""
    recipients = body.get("recipients")
    # One recipient per message: that is all the channel sends (⚠ the bulk separator is unverified).
    if not isinstance(recipients, str) or not recipients.isascii() or not recipients.isdigit():
        return -6, "No valid recipient"
    if not 8 <= len(recipients) <= 15:
        return -6, "No valid recipient"
    if body.get("messageType") not in ("text", "unicode"):
        return -8, "Invalid message type"
    text = body.get("messageText")
    if not isinstance(text, str) or not text:
        return -9, "Empty message text"
    if not isinstance(body.get("senderName"), str) or not body["senderName"]:
        return -12, "Invalid sender name"
    if segments(text).count > MAX_PARTS:
        return -41, "Message exceeds 20 parts"
    dlr = body.get("dlrUrl")
    if dlr is not None and not isinstance(dlr, str):
        return -1, "Invalid dlrUrl"  # ⚠ code unverified
    return None


@until_shutdown
async def _report(store: SmsStore, sms: SimSms) -> None:
    """Post the delivery report to the message's dlrUrl, as the gateway does once the operator
    tells it, retrying a failed post a few times. ⚠ The field names and the transport (a JSON
    POST here; Cequens' reference shows query parameters) are unverified."""
    status = 1 if store.deliverable(sms.to) else 2
    store.update(sms, report="delivered" if status == 1 else "undelivered")
    assert sms.dlr_url is not None
    report = {
        "messageId": sms.id,
        "clientMessageId": None,
        "status": status,
        "recipient": sms.to,
        "senderName": sms.sender,
        "submitDate": sms.submitted_at.isoformat(timespec="milliseconds"),
        "deliveryDate": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }
    async with httpx.AsyncClient(timeout=5.0) as http:
        for attempt, pause in enumerate((0.0, *REPORT_RETRY_DELAYS), start=1):
            await asyncio.sleep(pause)
            try:
                answer = await http.post(sms.dlr_url, json=report)
                posted = answer.is_success
            except httpx.HTTPError:
                posted = False
            store.update(sms, report_posted=posted, report_attempts=attempt)
            if posted:
                return
    log.warning("sms_report_not_posted", id=sms.id, attempts=len(REPORT_RETRY_DELAYS) + 1)


# --- Running it ------------------------------------------------------------------------


def start(store: SmsStore, host: str = "127.0.0.1", port: int = 0) -> ServerThread:
    """The simulator on a background thread, serving until `.stop()`."""
    return ServerThread(app(store), host=host, port=port).start()
