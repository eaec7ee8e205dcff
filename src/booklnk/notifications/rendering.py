"""A message's words from its template, its parameters and the recipient's language: pure,
no I/O beyond reading the packaged templates.

Each template is one file per language, `templates/<name>.<language>.jinja`, holding the
blocks `subject`, `text` and `body` (the HTML part's content, inside `_base.jinja`'s
page), and `short` (a text message's words). Numbers, durations and dates are written by
Babel in the recipient's locale (Egyptian Arabic or English), never by hand."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_skeleton, format_time
from babel.numbers import format_currency, get_currency_precision
from babel.units import format_unit
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

LANGUAGES = ("ar", "en")
# The Babel locale each language is written in: Egypt's Arabic (its digits and plurals).
_LOCALES = {"ar": "ar_EG", "en": "en"}
# Text direction, for the HTML part and the plain text's isolates.
DIRECTIONS = {"ar": "rtl", "en": "ltr"}


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str
    language: str
    # The words for a text message (SMS): one or two segments, no greeting, no footer.
    short: str


def render(template: str, language: str, params: Mapping[str, Any]) -> Rendered:
    """The message `template` in `language` (one of LANGUAGES), its blanks filled from
    `params`; a blank without a value is an error, never an empty space."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    values = {**params, "language": language, "direction": DIRECTIONS[language]}

    name = f"{template}.{language}.jinja"
    # The same file twice: HTML-escaped for the HTML part, as written for the others (a
    # name like "Hany & Sons" must not reach a plain-text e-mail as "Hany &amp; Sons").
    plain = _environment(language, html=False).get_template(name)

    def block(block_name: str) -> str:
        return "".join(plain.blocks[block_name](plain.new_context(values, shared=False))).strip()

    return Rendered(
        subject=" ".join(block("subject").split()),
        text=block("text") + "\n",
        html=_environment(language, html=True).get_template(name).render(values),
        language=language,
        short=" ".join(block("short").split()),
    )


@dataclass(frozen=True, slots=True)
class Formats:
    """Numbers, durations, dates and money as one language writes them (Babel), for the
    templates' filters and for anything else that speaks to a person (a WhatsApp
    template's parameters, a page)."""

    locale: str

    def minutes(self, value: int) -> str:
        """ "2 minutes", "دقيقتان": the unit in the plural form the number takes (Arabic
        has six: a dual without the number, 3-10 plural, 11 and up singular, ...)."""
        return format_unit(value, "duration-minute", length="long", locale=self.locale)

    def day(self, instant: str, zone: str) -> str:
        """An instant's local date, in full: "Thursday, November 26, 2026", "الخميس، 26 نوفمبر 2026"."""
        local = datetime.fromisoformat(instant).astimezone(ZoneInfo(zone))
        return format_date(local, "full", locale=self.locale)

    def date(self, instant: str, zone: str) -> str:
        """An instant's local date, short (for a text message): "Thu, Nov 26", "الخميس، 26 نوفمبر"."""
        local = datetime.fromisoformat(instant).astimezone(ZoneInfo(zone))
        return format_skeleton("MMMEd", local, locale=self.locale)

    def clock(self, instant: str, zone: str) -> str:
        """An instant's local time of day: "10:00 AM", "10:00 ص"."""
        return format_time(
            datetime.fromisoformat(instant), "short", tzinfo=ZoneInfo(zone), locale=self.locale
        )

    def money(self, minor: int, currency: str) -> str:
        """An amount in minor units, as the locale writes it: "EGP150.00", "150.00 ج.م."."""
        major = Decimal(minor).scaleb(-get_currency_precision(currency))
        return format_currency(major, currency, locale=self.locale)


def formats(language: str) -> Formats:
    """How `language` (one of LANGUAGES) writes things: Egypt's Arabic, or English."""
    return Formats(_LOCALES[language])


@cache
def _environment(language: str, *, html: bool) -> Environment:
    written = formats(language)
    env = Environment(
        loader=PackageLoader("booklnk.notifications", "templates"),
        autoescape=html,
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def isolate(value: object) -> str | Markup:
        """A name, address or code set apart from the text's direction, so a Latin name in
        an Arabic sentence (or the reverse) cannot reorder its neighbours: `<bdi>` in HTML,
        the Unicode first-strong isolate (U+2068 … U+2069) in plain text."""
        if html:
            return Markup("<bdi>{}</bdi>").format(value)
        return f"\u2068{value}\u2069"

    env.filters["isolate"] = isolate
    for name in ("minutes", "day", "date", "clock", "money"):
        env.filters[name] = getattr(written, name)
    return env
