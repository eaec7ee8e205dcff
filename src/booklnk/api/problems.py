"""RFC 9457 problem+json rendering for every error the API can answer, in one place."""

from __future__ import annotations

import socket
from datetime import datetime
from typing import Any

import structlog
from asgi_correlation_id import correlation_id
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from booklnk.api import problems_ar
from booklnk.api.languages import caller_language
from booklnk.api.redaction import redacted
from booklnk.db.errors import sqlstate, unreachable
from booklnk.kernel.errors import BooklnkError, FieldIssue

PROBLEM_MEDIA_TYPE = "application/problem+json"
CLIENT_CLOSED_REQUEST = 499  # nginx's status for a client that left before its answer
log = structlog.get_logger()

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    412: "Precondition failed",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
# How long a client should wait before trying again while the database is out of reach:
# a restart or a failover takes seconds.
DATABASE_RETRY_AFTER_SECONDS = 5


class ProblemIssue(BaseModel):
    field: str = Field(examples=["body.price_minor"])
    rule: str = Field(examples=["greater_than_equal"])
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document, with Booklnk's stable `code` and per-field `errors`."""

    type: str = Field(examples=["https://booklnk.dev/problems/validation_failed"])
    title: str
    status: int
    detail: str
    code: str = Field(examples=["validation_failed"])
    # Always sent (required in the document, so a generated client need not guard them).
    instance: str = Field(description="The path the problem answered.")
    request_id: str | None = Field(description="The request's X-Request-ID, to quote in a report.")
    errors: list[ProblemIssue] = Field(description="Each field and the rule it broke; empty when none.")
    # Extension members: present only on the problems that carry them.
    rule: str | None = Field(
        default=None,
        description="The business rule refused by (`too_early`, `too_late`, `too_many_holds`, "
        "`daily_limit_reached`), e.g. `no_show_grace_minutes`.",
    )
    earliest: datetime | None = Field(default=None, description="`too_early`: when the action becomes due.")
    latest: datetime | None = Field(default=None, description="`too_late`: when it stopped being allowed.")
    limit: int | None = Field(
        default=None,
        description="`too_many_holds`, `daily_limit_reached`: the limit; `body_too_large`: the route's "
        "body limit in bytes.",
    )
    free_until: datetime | None = Field(
        default=None, description="`cancellation_window_passed`: when free cancellation ended."
    )
    resource_id: str | None = Field(default=None, description="`resource_busy`: the room that is taken.")
    staff_id: str | None = Field(default=None, description="`instructor_busy`: the instructor who is.")
    starts_at: datetime | None = Field(default=None, description="`resource_busy`, `instructor_busy`: when.")
    waitlist: str | None = Field(default=None, description="`session_full`: the session's waitlist.")
    booking_status: str | None = Field(
        default=None,
        description="`invalid_transition`: the booking's status, which the action cannot leave "
        "(`status` is the HTTP status).",
        examples=["cancelled"],
    )
    action: str | None = Field(
        default=None, description="`invalid_transition`: the action refused.", examples=["cancel"]
    )


def problem_title(status: int) -> str:
    return _TITLES.get(status, "Error")


def _language(request: Request) -> str:
    """`Accept-Language` when the request sends one, else the signed-in account's own
    language (its token carries it), else English."""
    header = request.headers.get("accept-language")
    if header is None:
        return getattr(request.state, "language", None) or "en"
    return caller_language(header)


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    detail: str,
    issues: list[FieldIssue] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    request.state.problem_code = code  # for the request's log line
    arabic = _language(request) == "ar"
    title = problems_ar.TITLES.get(status) if arabic else None
    if arabic:
        detail = problems_ar.DETAILS.get(code, detail)
    # Extension members come first so that none can overwrite a member RFC 9457 defines
    # (a domain error's `status` once replaced the HTTP status).
    body: dict[str, Any] = {
        **(extra or {}),
        "type": f"https://booklnk.dev/problems/{code}",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.url.path,
        "request_id": correlation_id.get(),
        "errors": [{"field": i.field, "rule": i.rule, "message": i.message} for i in issues or []],
    }
    language = {"Content-Language": "ar" if arabic else "en", "Vary": "Accept-Language, Authorization"}
    return JSONResponse(
        body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers={**language, **(headers or {})}
    )


class BodyTooLarge(StarletteHTTPException):
    """A request body past its route's limit (see `api.body_limit`), met while reading it."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            status_code=413, detail=f"The request body is larger than this route accepts ({limit} bytes)."
        )
        self.limit = limit


def body_too_large_response(request: Request, exc: BodyTooLarge) -> JSONResponse:
    return problem_response(
        request, status=413, code="body_too_large", detail=str(exc.detail), extra={"limit": exc.limit}
    )


def _field_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BooklnkError)
    headers = None
    if exc.status == 429 and "retry_after_seconds" in exc.extra:
        headers = {"Retry-After": str(exc.extra["retry_after_seconds"])}
    if exc.status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    return problem_response(
        request,
        status=exc.status,
        code=exc.code,
        detail=exc.detail,
        issues=exc.issues,
        extra=exc.extra,
        headers=headers,
    )


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    issues = [
        FieldIssue(_field_path(tuple(err["loc"])), str(err["type"]), str(err["msg"])) for err in exc.errors()
    ]
    detail = "; ".join(f"{i.field}: {i.message}" for i in issues) or "The request is invalid."
    return problem_response(request, status=422, code="validation_failed", detail=detail, issues=issues)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, f"http_{exc.status_code}")
    detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
    return problem_response(
        request, status=exc.status_code, code=code, detail=detail, headers=dict(exc.headers or {})
    )


async def _on_body_too_large(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BodyTooLarge)
    return body_too_large_response(request, exc)


def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # An outage is expected and says nothing about our code: one line, no traceback.
    log.warning("database_unavailable", path=redacted(request.url.path), error_type=type(exc).__name__)
    return problem_response(
        request,
        status=503,
        code="database_unavailable",
        detail="The database cannot be reached at the moment; try again shortly.",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


async def _on_connection_error(request: Request, exc: Exception) -> JSONResponse:
    # Connecting failed (refused, timed out, name unknown, no socket) or the pool had no
    # connection; anything else of these kinds is unexpected.
    if unreachable(exc):
        return _database_unavailable(request, exc)
    return await _on_unexpected(request, exc)


async def _on_database_error(request: Request, exc: Exception) -> JSONResponse:
    # PostgreSQL's class 22 (data exception): a value that passed validation but cannot be
    # stored, e.g. a NUL character in text. The client's fault, so 422, never 500.
    assert isinstance(exc, DBAPIError)
    if unreachable(exc):
        return _database_unavailable(request, exc)
    if not (sqlstate(exc) or "").startswith("22"):
        return await _on_unexpected(request, exc)
    return problem_response(
        request,
        status=422,
        code="invalid_value",
        detail="A value in the request cannot be stored (for example it contains a NUL character).",
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Logged with its traceback; the client learns only the request id to quote.
    log.exception("unhandled_error", path=redacted(request.url.path), error_type=type(exc).__name__)
    return problem_response(
        request,
        status=500,
        code="internal_error",
        detail="Something went wrong on our side. Quote the request id when reporting it.",
    )


async def _on_client_gone(request: Request, exc: Exception) -> Response:
    # The client hung up before its request was read whole (a load generator stopping, a
    # phone losing its signal): nobody is left to answer and nothing failed here. 499,
    # nginx's "client closed request", in the log line and the metrics; never a 500 with
    # a traceback that pages the operator.
    log.info("client_disconnected", path=redacted(request.url.path))
    return Response(status_code=CLIENT_CLOSED_REQUEST)


class UnexpectedErrors:
    """Renders an unexpected exception as the 500 problem inside the middleware stack, so
    that answer still gets its request id, CORS headers, log line and count: Starlette
    renders its catch-all handler outermost, past every middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if started:  # too late for an answer of our own
                raise
            response = await _on_unexpected(Request(scope), exc)
            await response(scope, receive, send)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(BooklnkError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(BodyTooLarge, _on_body_too_large)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(DBAPIError, _on_database_error)
    app.add_exception_handler(ClientDisconnect, _on_client_gone)
    # (FileNotFoundError: a unix socket's server that is down; `unreachable` tells it apart.)
    for kind in (PoolTimeout, ConnectionError, TimeoutError, socket.gaierror, FileNotFoundError):
        app.add_exception_handler(kind, _on_connection_error)
    app.add_exception_handler(Exception, _on_unexpected)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the problem+json a route may answer."""
    # No `model`: FastAPI would document it under application/json as well, and the
    # server sends problem+json only. (`Problem` is registered by the app's schema.)
    return {
        status: {
            "description": _TITLES.get(status, "Error"),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
