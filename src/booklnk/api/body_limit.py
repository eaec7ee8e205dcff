"""Request-body size limits, enforced before anything parses a body (DESIGN.md, invariant 10).

A pure ASGI middleware: a declared `Content-Length` above the route's limit is answered 413
at once, without calling the app or reading a byte of the body; a body without one (chunked)
is counted as the app reads it, and reading stops at the first chunk past the limit.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from booklnk.api.problems import BodyTooLarge, body_too_large_response


class BodyLimitMiddleware:
    """`default` bytes for every route, except the paths named in `per_path` (exact paths:
    the limit is chosen before routing, so that nothing runs for a body refused at once)."""

    def __init__(self, app: ASGIApp, *, default: int, per_path: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        self.per_path = dict(per_path or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope["path"], self.default)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await body_too_large_response(Request(scope), BodyTooLarge(limit))(scope, receive, send)
            return

        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # The route's handlers render it (FastAPI re-raises an HTTPException
                    # met while reading a body); what reads no more is never sent more.
                    raise BodyTooLarge(limit)
            return message

        started = False

        async def noted_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, noted_send)
        except BodyTooLarge as exc:
            # Read outside a route's handlers (by a middleware): answered here.
            if started:
                raise
            await body_too_large_response(Request(scope), exc)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:  # the server refuses a malformed one; the body is counted anyway
        return None
