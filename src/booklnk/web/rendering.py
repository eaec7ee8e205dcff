"""Pages rendered on the server from `templates/`, in the reader's language and direction,
with Babel's formats for Egypt's Arabic or English: the words are `words.WORDS`, the
layout `base.html`. No script is needed to read or use a page; `static/site.js` only
enhances (a booking's status follows itself).

The stylesheet and the script go inside every page: on a slow mobile connection each
further request costs a round trip of up to two seconds, far more than their two
kilobytes compressed (`bench/web.py` measures both ways' cost as load time)."""

from __future__ import annotations

import base64
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
            csrf=session.masked_csrf(request),
            csrf_field=session.CSRF_FIELD,
            signed_in=getattr(request.state, "web_actor", None) is not None,
            inline=inline_assets(),
            **values,
        )
    )
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    # Every page is someone's own (or changes by the minute): never kept by a proxy.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = content_policy(settings.kashier_hpp_url)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
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
def content_policy(kashier_page: str) -> str:
    """Nothing loads from elsewhere; the one script runs by its hash (an injected one would
    not); forms post here, and on to Kashier's hosted page (a form's redirect counts).
    Style attributes are allowed: the desk's grid places each booking by them."""
    script = base64.b64encode(hashlib.sha256(str(inline_assets()["site.js"]).encode()).digest()).decode()
    kashier = "/".join(kashier_page.split("/")[:3])
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self';"
        f" script-src 'sha256-{script}'; form-action 'self' {kashier}; base-uri 'none';"
        " frame-ancestors 'none'"
    )


@cache
def inline_assets() -> dict[str, Markup]:
    """The stylesheet and the script, as written in `static/`, to put inside the page."""
    folder = resources.files("booklnk.web") / "static"
    return {name: Markup((folder / name).read_text(encoding="utf-8")) for name in ("site.css", "site.js")}


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
