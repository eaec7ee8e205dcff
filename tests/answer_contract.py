"""Every answer the suite meets keeps the OpenAPI document's word: a problem carries a code
its operation lists, and a 201 says where the created resource is (`Location`).

The in-process clients wrap the app in `AnswerContract`; at teardown their fixtures assert
`broken` is empty, so an answer that breaks the document fails the test that met it.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

PROBLEM = "application/problem+json"


class AnswerContract:
    # The document's codes do not depend on the settings: read once per test session (a
    # document takes most of a second to build).
    _paths: dict[str, Any] | None = None

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.broken: list[str] = []

    def documented(self, method: str, path: str, status: int) -> set[str]:
        if AnswerContract._paths is None:
            AnswerContract._paths = self.app.openapi()["paths"]
        answer = AnswerContract._paths[path][method.lower()]["responses"].get(str(status), {})
        return set(answer.get("content", {}).get(PROBLEM, {}).get("examples", {}))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0
        headers: dict[bytes, bytes] = {}
        body = bytearray()

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status, headers = message["status"], dict(message["headers"])
            elif message["type"] == "http.response.body" and status >= 400:
                body.extend(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        route = scope.get("route")
        if route is None:  # answered before routing (an unknown path, the body limit)
            return
        where = f"{scope['method']} {route.path}"
        if status == 201 and b"location" not in headers:
            self.broken.append(f"{where} answered 201 without Location")
        if headers.get(b"content-type", b"").startswith(PROBLEM.encode()):
            code = json.loads(bytes(body))["code"]
            if code not in self.documented(scope["method"], route.path, status):
                self.broken.append(f"{where} answered {status} {code}, which its document does not list")
