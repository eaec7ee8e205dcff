"""The e-mail part of `booklnk messages-sim`: a real SMTP server (aiosmtpd) that keeps what
it is sent, and a small web inbox to read it (`GET /` a page, `GET /messages` JSON, `DELETE
/messages` empties it). It is where the demo's and a developer's e-mail goes: registration
codes included."""

from __future__ import annotations

import email.policy
import threading
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from html import escape
from typing import Any

import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

log = structlog.get_logger(__name__)

# The inbox keeps the newest messages only: a simulator left running must not grow for ever.
KEPT = 500


@dataclass(frozen=True, slots=True)
class Received:
    number: int
    sender: str
    to: list[str]
    subject: str
    date: str
    language: str
    text: str
    html: str

    def summary(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "from": self.sender,
            "to": self.to,
            "subject": self.subject,
            "date": self.date,
            "language": self.language,
            "text": self.text,
        }


class Inbox:
    """aiosmtpd's handler: every message accepted, parsed and kept."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: deque[Received] = deque(maxlen=KEPT)
        self._count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd calls it so
        parsed = BytesParser(policy=email.policy.default).parsebytes(envelope.content)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self._count += 1
            received = _received(self._count, parsed, list(envelope.rcpt_tos))
            self._messages.append(received)
        log.info("mail_received", number=received.number, to=received.to, subject=received.subject)
        return "250 2.0.0 Ok: queued"

    def newest_first(self) -> list[Received]:
        with self._lock:
            return list(reversed(self._messages))

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()


def _received(number: int, message: EmailMessage, to: list[str]) -> Received:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return Received(
        number=number,
        sender=str(message["From"] or ""),
        to=to,
        subject=str(message["Subject"] or ""),
        date=str(message["Date"] or ""),
        language=str(message["Content-Language"] or ""),
        text=text.get_content() if isinstance(text, EmailMessage) else "",
        html=html.get_content() if isinstance(html, EmailMessage) else "",
    )


def web_app(inbox: Inbox) -> Starlette:
    async def page(request: Request) -> HTMLResponse:
        rows = "".join(
            f"<article><h2><a href='/messages/{m.number}'>{escape(m.subject)}</a></h2>"
            f"<p>to {escape(', '.join(m.to))} · {escape(m.date)}</p>"
            f"<pre dir='auto'>{escape(m.text)}</pre></article>"
            for m in inbox.newest_first()
        )
        return HTMLResponse(
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Booklnk mail simulator</title>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'></head>"
            f"<body style='font-family:sans-serif;max-width:48rem;margin:auto'><h1>Inbox</h1>"
            "<p>Text messages: <a href='/cequens/__sim/messages'>SMS</a> ·"
            " <a href='/whatsapp/__sim/messages'>WhatsApp</a> (JSON, newest first)</p>"
            f"{rows or '<p>No mail yet.</p>'}</body></html>"
        )

    async def messages(request: Request) -> Response:
        if request.method == "DELETE":
            inbox.clear()
            return Response(status_code=204)
        to = request.query_params.get("to")
        found = [m.summary() for m in inbox.newest_first() if to is None or to in m.to]
        return JSONResponse(found)

    async def message(request: Request) -> Response:
        number = request.path_params["number"]
        for m in inbox.newest_first():
            if m.number == number:
                return HTMLResponse(m.html or f"<pre>{escape(m.text)}</pre>")
        return Response(status_code=404)

    return Starlette(
        routes=[
            Route("/", page),
            Route("/messages", messages, methods=["GET", "DELETE"]),
            Route("/messages/{number:int}", message),
        ]
    )
