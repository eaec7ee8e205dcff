"""A real webhook receiver (a tiny ASGI app under uvicorn) and helpers for driving the
Kashier simulator over HTTP."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from booklnk.payments.kashier.client import hosted_page_url
from booklnk.payments.kashier.config import KashierConfig
from booklnk.payments.kashier.signing import WebhookCheck, check_webhook

# Kashier's schedule compressed: three retries within half a second (the simulator the
# payments tests share, and the tests that time it).
RETRY_DELAYS = (0.05, 0.1, 0.2)
LATE_WEBHOOK_DELAY = 0.4
CLIENT_TIMEOUT = 1.0
MID = "MID-1234-567"
API_KEY = "sim-payment-api-key"
SECRET_KEY = "sim$secret$key-with-dollars"  # Kashier's Secret keys contain a "$"


@dataclass(frozen=True)
class Received:
    event: str
    data: dict[str, Any]
    signature: str | None
    check: WebhookCheck
    answered: int
    at: float


class Receiver:
    """Our side of the webhook: verifies as production code will, answers 401 to a bad
    signature, 503 while told to refuse, 200 otherwise, and records every delivery."""

    def __init__(self, api_key: str) -> None:
        self._api_key = api_key
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._refuse = 0
        self.base_url = ""  # set once its server is listening
        self.app = Starlette(routes=[Route("/hooks/kashier", self._hook, methods=["POST"])])

    def refuse_next(self, count: int) -> None:
        with self._lock:
            self._refuse = count

    def clear(self) -> None:
        with self._lock:
            self._received.clear()
            self._refuse = 0

    def received(self, order_id: str | None = None) -> list[Received]:
        with self._lock:
            return [
                r for r in self._received if order_id is None or r.data.get("merchantOrderId") == order_id
            ]

    def accepted(self, order_id: str) -> list[Received]:
        return [r for r in self.received(order_id) if r.answered == 200]

    async def _hook(self, request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        signature = request.headers.get("x-kashier-signature")
        check = check_webhook(self._api_key, body["data"], signature)
        with self._lock:
            if check is not WebhookCheck.OK:
                answered = 401
            elif self._refuse:
                self._refuse -= 1
                answered = 503
            else:
                answered = 200
            self._received.append(
                Received(body["event"], body["data"], signature, check, answered, time.monotonic())
            )
        return JSONResponse({"ok": answered == 200}, status_code=answered)


@dataclass(frozen=True)
class Sim:
    """The running simulator, its client config, and the receiver's webhook URL."""

    url: str
    config: KashierConfig
    webhook_url: str
    http: httpx.AsyncClient

    def checkout_url(
        self, order_id: str, amount_minor: int = 15000, methods: str = "card,wallet,fawry"
    ) -> str:
        return hosted_page_url(
            self.config,
            order_id,
            amount_minor,
            "EGP",
            methods.split(","),
            "http://shop.example/return?booking=42",
            self.webhook_url,
        )

    async def admin(self, method: str, path: str, body: Any = None) -> Any:
        response = await self.http.request(method, f"{self.url}{path}", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    async def pay(self, order_id: str, amount_minor: int = 15000, **details: str) -> dict[str, Any]:
        """Open the hosted page for a new order and pay it through the JSON shortcut."""
        opened = await self.http.get(self.checkout_url(order_id, amount_minor))
        assert opened.status_code == 200, opened.text
        result: dict[str, Any] = await self.admin(
            "POST", "/__sim/pay", {"merchantOrderId": order_id, **details}
        )
        return result

    async def faults(self, order_id: str | None = None, **faults: Any) -> None:
        await self.admin("POST", "/__sim/faults", {"merchantOrderId": order_id, **faults})

    async def outbox(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.admin("GET", "/__sim/outbox")
        return result

    async def drained(self, within: float = 10) -> dict[str, Any]:
        """Wait until nothing is left to deliver (held-back webhooks aside)."""
        deadline = time.monotonic() + within
        while True:
            box = await self.outbox()
            if box["pending"] == 0:
                return box
            assert time.monotonic() < deadline, f"outbox not drained: {box}"
            await asyncio.sleep(0.02)


def new_order_id() -> str:
    return f"bk-{uuid.uuid4().hex[:12]}"
