"""An integrator's endpoint over real HTTP: a small Starlette app on a thread that checks
every delivery's signature with the `standardwebhooks` library, and can be told to
answer an error for its next deliveries."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from booklnk.notifications.simulators.threaded import ServerThread


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    verified: bool
    payload: Any = None


@dataclass
class Receiver:
    url: str = ""
    secret: str | None = None
    failures_left: int = 0
    failure_status: int = 500
    failure_body: str = "not now"
    lock: threading.Lock = field(default_factory=threading.Lock)
    deliveries: list[Delivery] = field(default_factory=list)

    def reset(self) -> None:
        with self.lock:
            self.secret, self.failures_left, self.failure_status, self.failure_body = None, 0, 500, "not now"
            self.deliveries.clear()

    def fail(self, times: int, status: int = 500, body: str = "not now") -> None:
        with self.lock:
            self.failures_left, self.failure_status, self.failure_body = times, status, body

    @property
    def received(self) -> list[Delivery]:
        with self.lock:
            return list(self.deliveries)

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        with self.lock:
            if self.failures_left > 0:
                self.failures_left -= 1
                self.deliveries.append(Delivery(headers, body, verified=False))
                return Response(self.failure_body, status_code=self.failure_status)
            secret = self.secret
        try:
            assert secret is not None
            payload = Webhook(secret).verify(body, headers)
        except (AssertionError, WebhookVerificationError):
            with self.lock:
                self.deliveries.append(Delivery(headers, body, verified=False))
            return Response("bad signature", status_code=400)
        with self.lock:
            self.deliveries.append(Delivery(headers, body, verified=True, payload=payload))
        return Response(status_code=204)


def start_receiver() -> tuple[Receiver, ServerThread]:
    receiver = Receiver()
    server = ServerThread(Starlette(routes=[Route("/hook", receiver.handle, methods=["POST"])])).start()
    receiver.url = f"{server.url}/hook"
    return receiver, server
