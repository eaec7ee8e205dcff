"""Pay links, opened in the customer's browser from a message: a page saying what is paid
for and until when (GET: safe for the link previews messengers fetch), and its buttons,
each starting checkout with one method and sending the browser to Kashier (POST, 303).
A refusal is a page in the reader's language for a browser (it asks for `text/html`),
saying what happened and what to do next; an API client gets the problem document."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute

from booklnk.api import limits, pages
from booklnk.api.deps import NowDep, SessionDep, SettingsDep
from booklnk.api.languages import caller_language
from booklnk.api.problems import problem_responses
from booklnk.bootstrap import checkout_callbacks, derived_key, kashier_config
from booklnk.config import Settings
from booklnk.flows import pay_links
from booklnk.kernel.errors import BooklnkError
from booklnk.payments.pay_links import PATH


class PayLinkRoute(APIRoute):
    """The pay link's routes: a refusal answered to a browser as a page (the same status),
    to anyone else as the app's problem document (re-raised to its handlers)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            if not _wants_page(request):
                return await handler(request)
            try:
                return await handler(request)
            except BooklnkError as error:
                seconds = error.extra.get("retry_after_seconds")
                headers = {"Retry-After": str(seconds)} if seconds is not None else {}
                return _problem_page(request, error.status, error.code, headers)
            except RequestValidationError as error:
                # A token cut short or padded by a messenger is not a link of ours; what
                # else a page's own form can get wrong is its method.
                token = any(tuple(e["loc"][:2]) == ("path", "token") for e in error.errors())
                if token:
                    return _problem_page(request, 404, "pay_link_not_found", {})
                return _problem_page(request, 422, "validation_failed", {})

        return answer


def _wants_page(request: Request) -> bool:
    """A browser's navigation: `text/html` among the media types it accepts (not q=0)."""
    for item in request.headers.get("accept", "")[:1_000].lower().split(","):
        media, _, params = item.partition(";")
        if media.strip() == "text/html":
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _problem_page(request: Request, status_code: int, code: str, headers: dict[str, str]) -> HTMLResponse:
    language = caller_language(request.headers.get("accept-language"))
    body = pages.render("pay_link_problem", language, code=code, status=status_code)
    return HTMLResponse(body, status_code=status_code, headers=headers)


router = APIRouter(tags=["payments"], route_class=PayLinkRoute)
Token = Annotated[str, Path(min_length=20, max_length=300, description="The link's sealed token.")]
AcceptLanguage = Annotated[str | None, Header(description="The page's language (Arabic or English).")]


@router.get(
    PATH + "{token}",
    summary="A pay link's page",
    description="No sign-in: the link itself is the customer's proof (sealed by the server, naming the "
    "business and the booking, whose customer it acts for, valid until the booking's hold lapses). Answers "
    "an HTML page in the best of `Accept-Language` (Arabic or English) with the booking, the deadline "
    "and one button per online payment method. 404 `pay_link_not_found` (not a link of ours), 410 "
    "`pay_link_expired`, 409 `booking_not_payable` (paid meanwhile, or no longer held). A browser (`Accept` "
    "naming `text/html`) gets each refusal as a page in its language, with the same status.",
    response_class=HTMLResponse,
    responses=problem_responses(404, 409, 410),
    openapi_extra={"security": []},
)
async def pay_link_page(
    token: Token,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    accept_language: AcceptLanguage = None,
) -> HTMLResponse:
    page = await pay_links.describe(session, _key(settings), token, now=now)
    language = caller_language(accept_language)
    return HTMLResponse(pages.render("pay_link", language, page=page))


@router.post(
    PATH + "{token}",
    summary="Pay by the link: checkout starts, the browser goes to Kashier",
    description="The page's buttons: a new payment attempt for the booking, as its customer, with "
    "`method`, then 303 to Kashier's hosted page (in the page's language). 404 `pay_link_not_found`, 410 "
    "`pay_link_expired`, 409 `booking_not_payable` as for the page; 422 for a method the business does not "
    "take. Each post may open an order at Kashier: rate-limited per client address as booking is (429 "
    "`too_many_requests` with `Retry-After`). A browser gets each refusal as a page, as for the link's page.",
    status_code=status.HTTP_303_SEE_OTHER,
    response_class=RedirectResponse,
    dependencies=[Depends(limits.per_address("bookings"))],
    responses={
        **problem_responses(404, 409, 410, 422, 429),
        303: {
            "description": "On to Kashier's hosted payment page.",
            "headers": {
                "Location": {
                    "description": "The hosted page of the new payment attempt.",
                    "schema": {"type": "string", "format": "uri"},
                }
            },
        },
    },
    openapi_extra={"security": []},
)
async def pay_by_link(
    token: Token,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    method: Annotated[pay_links.Method, Query(description="How to pay.")] = "card",
    accept_language: AcceptLanguage = None,
) -> RedirectResponse:
    url = await pay_links.pay(
        session,
        _key(settings),
        token,
        method,
        kashier=kashier_config(settings),
        callbacks=checkout_callbacks(settings),
        display=caller_language(accept_language),
        now=now,
    )
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


def _key(settings: Settings) -> bytes:
    return derived_key(settings, "pay links").encode()
