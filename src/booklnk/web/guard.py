"""What every web page goes through: the reader's language (the path's first segment),
who is signed in (cookies, renewed on the way), forms with their CSRF token checked, and
errors shown as a page in the reader's language with the next thing to do — never a
problem+json document, never a dead end."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any, Protocol
from urllib.parse import quote

import structlog
from asgi_correlation_id import correlation_id
from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException as StarletteHTTPException

from booklnk.audit import log as audit
from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.db.errors import unreachable
from booklnk.kernel.clock import Clock
from booklnk.kernel.errors import BooklnkError, TooManyRequests, Unauthorized, ValidationFailed
from booklnk.tenancy.context import Actor, BusinessContext
from booklnk.tenancy.models import Role
from booklnk.tenancy.service import access_business
from booklnk.web import rendering, session
from booklnk.web.words import problem_text

log = structlog.get_logger()
# A form's fields and each value's length: a page's forms are small, a bigger post is not ours.
MAX_FIELDS = 40
MAX_VALUE = 2_000


def language_of(request: Request) -> str:
    """`ar` or `en`: the routes are mounted under each (see `site.install`)."""
    first = request.url.path.split("/")[1]
    return first if first in rendering.LANGUAGES else "ar"


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def db_of(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def now_of(request: Request) -> datetime:
    clock: Clock = request.app.state.clock
    return clock.now()


async def web_visitor(request: Request) -> Actor | None:
    """The signed-in account, if any (renewed tokens are set on the response by `WebRoute`)."""
    found = await session.visitor(request, settings_of(request), db_of(request), now_of(request))
    request.state.web_actor = found.actor
    request.state.web_renewed = found.renewed
    if found.actor is not None:
        request.state.user_id = found.actor.user_id  # for the request's log line
    return found.actor


async def signed_in(actor: Annotated[Actor | None, Depends(web_visitor)]) -> Actor:
    if actor is None:
        raise Unauthorized("Sign in to continue.", code="sign_in_needed")
    return actor


VisitorDep = Annotated[Actor | None, Depends(web_visitor)]
SignedInDep = Annotated[Actor, Depends(signed_in)]


async def unit_of_work(request: Request, actor: Annotated[Actor | None, Depends(web_visitor)]) -> Any:
    """The page's one transaction, as the signed-in account (or nobody)."""
    user_id = actor.user_id if actor else None
    async with db_of(request).transaction(user_id=user_id) as tx:
        audit.note_clock(tx, now_of(request))
        yield tx


SessionDep = Annotated[AsyncSession, Depends(unit_of_work, scope="function")]


async def owner_of(business_id: uuid.UUID, tx: SessionDep, actor: SignedInDep) -> BusinessContext:
    """The business of the page's path, entered as its owner (403 for anyone else): the
    owner's pages' one guard, in the page's own transaction."""
    return await access_business(tx, actor, business_id, require=Role.OWNER)


OwnerDep = Annotated[BusinessContext, Depends(owner_of)]


class Refused(Exception):
    """A form's field broke a rule: the page again, with `message` under `field`."""

    def __init__(self, field: str, message: str, status_code: int = 422) -> None:
        super().__init__(message)
        self.field, self.message, self.status_code = field, message, status_code


async def form(request: Request) -> dict[str, str]:
    """A posted form's fields (the first value of each), its CSRF token checked."""
    data = await request.form(max_files=0, max_fields=MAX_FIELDS)
    fields = {k[:100]: v for k, v in data.items() if isinstance(v, str)}
    session.check_csrf(request, fields.get(session.CSRF_FIELD))
    # Refused, never cut: a value cut short would be saved as something else (an address).
    for name, value in fields.items():
        if len(value) > MAX_VALUE:
            raise ValidationFailed.on(f"form.{name}", "string_too_long", f"At most {MAX_VALUE} characters.")
    return fields


FormDep = Annotated[dict[str, str], Depends(form)]


class _Limiter(Protocol):
    def take(self, key: str) -> Any: ...


def client_limited(request: Request, limit: str) -> None:
    """One request of this client address against the API's own limit of that name (the
    app's limiters: the web app and the API count together)."""
    limiter: _Limiter = request.app.state.limits[limit]
    decision = limiter.take(request.client.host if request.client else "unknown")
    if not decision.allowed:
        raise TooManyRequests(
            "Too many requests from this address; try again later.",
            retry_after_seconds=decision.retry_after_seconds,
        )


def posted_version(posted: dict[str, str]) -> int | None:
    """The version a form was read at (its `If-Match`), when it sent one."""
    value = posted.get("version", "")
    return int(value) if value.isdigit() else None


def posted_instant(posted: dict[str, str], name: str = "start") -> datetime:
    """An instant a form carries (as the page wrote it: ISO 8601 with its offset)."""
    try:
        instant = datetime.fromisoformat(posted.get(name, ""))
    except ValueError:
        raise ValidationFailed.on(f"form.{name}", "datetime", "Pick a time from the list.") from None
    if instant.tzinfo is None:
        raise ValidationFailed.on(f"form.{name}", "timezone_aware", "Pick a time from the list.")
    return instant


def parse_uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def local_path(value: str | None, language: str) -> str:
    """A `next` address to return to: only a path of this site (never another origin)."""
    if value and value.startswith(f"/{language}/") and not value.startswith("//") and "\\" not in value:
        return value
    return f"/{language}/"


class WebRoute(APIRoute):
    """A page route: errors become a page in the reader's language (a sign-in needed: the
    sign-in page, then back), and renewed session tokens are set on whatever is answered."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except BooklnkError as error:
                response = _error_page(request, error)
            except RequestValidationError:
                response = _error_page(request, None, status_code=404)
            except StarletteHTTPException as refused:
                response = _error_page(request, None, status_code=refused.status_code)
            except Exception as error:
                response = _failure_page(request, error)
            renewed = getattr(request.state, "web_renewed", None)
            if renewed is not None and not getattr(request.state, "web_signed_out", False):
                session.keep(response, renewed, settings_of(request), now_of(request))
            return response

        return page_handler


def _failure_page(request: Request, error: Exception) -> Response:
    """What went wrong on our side, as a page: the database out of reach (503, try again in
    a moment), or anything else (500, logged with the request id the page quotes)."""
    language = language_of(request)
    if unreachable(error):
        code, status, headers = "database_unavailable", 503, {"Retry-After": "5"}
    else:
        log.exception("unhandled_error", error_type=type(error).__name__, path=request.url.path)
        code, status, headers = "internal_error", 500, {}
    return rendering.page(
        request,
        language,
        "error.html",
        status_code=status,
        headers=headers,
        message=problem_text(language, code),
        issues=[],
        back=None,
        request_id=correlation_id.get(),
    )


def _error_page(request: Request, error: BooklnkError | None, *, status_code: int | None = None) -> Response:
    language = language_of(request)
    if error is not None and error.status == 401:
        if error.code == "invalid_token":  # the account is gone: its cookies are worthless
            response: Response = see_other(f"/{language}/sign-in")
            session.forget(response, settings_of(request))
            return response
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target = here if request.method == "GET" else request.headers.get("referer", "")
        return see_other(f"/{language}/sign-in?next={quote(_path_of(target, language), safe='')}")
    code = error.code if error is not None else _STATUS_CODES.get(status_code or 404, "not_found")
    headers = {}
    if error is not None and "retry_after_seconds" in error.extra:
        headers["Retry-After"] = str(error.extra["retry_after_seconds"])
    return rendering.page(
        request,
        language,
        "error.html",
        status_code=status_code or (error.status if error else 404),
        headers=headers,
        message=problem_text(language, code),
        issues=error.issues if error else [],
        back=_path_of(request.headers.get("referer", ""), language),
        request_id=None,
    )


# What a refusal that is not ours (Starlette's) is called, by its status.
_STATUS_CODES = {400: "validation_failed", 404: "not_found", 405: "not_found", 413: "body_too_large"}


def _path_of(url: str, language: str) -> str:
    """The path and query of a same-site URL (a Referer), else the language's home."""
    if "://" in url:
        url = "/" + url.split("://", 1)[1].partition("/")[2]
    return local_path(url, language)
