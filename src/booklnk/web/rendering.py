"""Pages rendered on the server from `templates/`, in the reader's language and direction,
with Babel's formats for Egypt's Arabic or English: the words are `words.WORDS`, the
layout `base.html`. No script is needed to read or use a page; `static/site.js` only
enhances (a booking's status follows itself)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from booklnk.config import Settings
from booklnk.notifications.rendering import DIRECTIONS, Formats, formats
from booklnk.web import session
from booklnk.web.words import WORDS

LANGUAGES = ("ar", "en")
STATIC_PATH = "/static/web"


def page(
    request: Request,
    language: str,
    template: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    """`templates/<template>` for this request: its language, the other language's link,
    the form token, and whatever the page itself needs."""
    settings: Settings = request.app.state.settings
    other = "en" if language == "ar" else "ar"
    path = request.url.path
    switch = f"/{other}{path[len(language) + 1 :]}" if path.startswith(f"/{language}") else f"/{other}/"
    if request.url.query:
        switch += f"?{request.url.query}"
    html = (
        _environment()
        .get_template(template)
        .render(
            language=language,
            direction=DIRECTIONS[language],
            words=WORDS[language],
            written=formats(language),
            local=Local(formats(language)),
            switch_url=switch,
            other_language=other,
            csrf=session.csrf_token(request),
            csrf_field=session.CSRF_FIELD,
            signed_in=getattr(request.state, "web_actor", None) is not None,
            assets=asset_urls(),
            **values,
        )
    )
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    # Every page is someone's own (or changes by the minute): never kept by a proxy.
    response.headers["Cache-Control"] = "no-store"
    session.remember_csrf(request, response, settings)
    response.set_cookie(session.LANGUAGE, language, max_age=365 * 86_400, samesite="lax")
    return response


class Local:
    """Instants written in a business's time zone (the templates' view of `Formats`)."""

    def __init__(self, written: Formats) -> None:
        self._written = written

    def day(self, instant: datetime, zone: str) -> str:
        return self._written.day(instant.isoformat(), zone)

    def date(self, instant: datetime, zone: str) -> str:
        return self._written.date(instant.isoformat(), zone)

    def clock(self, instant: datetime, zone: str) -> str:
        return self._written.clock(instant.isoformat(), zone)

    def iso_day(self, instant: datetime, zone: str) -> str:
        return instant.astimezone(ZoneInfo(zone)).date().isoformat()


@cache
def asset_urls() -> dict[str, str]:
    """Each static file's URL with its content's hash: cached for a year by browsers, and a
    new release is a new URL."""
    folder = resources.files("booklnk.web") / "static"
    urls = {}
    for name in ("site.css", "site.js"):
        digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()[:12]
        urls[name] = f"{STATIC_PATH}/{name}?v={digest}"
    return urls


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("booklnk.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["isolate"] = lambda value: Markup("<bdi>{}</bdi>").format(value)
    return env
