"""The web app inside the API's service: its pages under `/ar/…` and `/en/…` (Arabic
first: `/` goes to the reader's remembered or preferred language), compressed (a page is
read on a slow phone connection)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from booklnk.kernel.errors import NotFound
from booklnk.tenancy.service import list_businesses
from booklnk.web import (
    class_seats,
    customer,
    desk,
    desk_calendar,
    desk_customers,
    desk_money,
    desk_reschedule,
    desk_walk_in,
    joining,
    my_bookings,
    rendering,
    reports,
    session,
    settings_classes,
    settings_hours,
    settings_rooms,
    settings_rules,
    settings_services,
    settings_team,
    settings_webhooks,
    setup,
    signing_in,
)
from booklnk.web.guard import SessionDep, VisitorDep, WebRoute, language_of

_home = APIRouter(route_class=WebRoute, include_in_schema=False)
DIRECTORY_LIMIT = 50
WEB_PREFIXES = tuple(f"/{language}/" for language in rendering.LANGUAGES)


_missing = APIRouter(route_class=WebRoute, include_in_schema=False)


@_missing.get("/{rest:path}")
async def not_found(rest: str) -> Response:
    """Any other address under a language: a page saying so (the last route matched)."""
    raise NotFound("No page here.")


@_home.get("/")
async def home(request: Request, tx: SessionDep, _: VisitorDep) -> Response:
    businesses, _next = await list_businesses(tx, cursor=None, limit=DIRECTORY_LIMIT)
    return rendering.page(request, language_of(request), "home.html", businesses=businesses)


def install(app: FastAPI) -> None:
    """Mount the web app on `app` (after the API's routes: they keep their paths)."""
    for language in rendering.LANGUAGES:
        for module_router in (
            _home,
            customer.router,
            signing_in.router,
            my_bookings.router,
            joining.router,
            setup.router,  # before the desk's: /desk/new is not a business id
            desk_calendar.router,  # before the desk's: /desk/{id}/week
            desk.router,
            desk_reschedule.router,
            desk_walk_in.router,
            desk_customers.router,
            desk_money.router,
            class_seats.router,
            reports.router,
            settings_hours.router,
            settings_rooms.router,
            settings_classes.router,
            settings_rules.router,
            settings_webhooks.router,
            settings_services.router,
            settings_team.router,
            _missing,  # last
        ):
            app.include_router(module_router, prefix=f"/{language}")

    @app.get("/", include_in_schema=False)
    async def root(request: Request) -> RedirectResponse:
        remembered = request.cookies.get(session.LANGUAGE)
        language = remembered if remembered in rendering.LANGUAGES else _preferred(request)
        return RedirectResponse(f"/{language}/", status_code=303)

    app.add_middleware(WebCompression)


def _preferred(request: Request) -> str:
    """Arabic unless the browser prefers English over it."""
    header = request.headers.get("accept-language", "")[:200].lower()
    ar, en = header.find("ar"), header.find("en")
    return "en" if en != -1 and (ar == -1 or en < ar) else "ar"


class WebCompression:
    """Gzip for the web app's pages and files only: the API's answers stay as they were."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=500)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(WEB_PREFIXES):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
