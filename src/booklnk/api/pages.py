"""The few pages the service serves to a browser (a pay link's), rendered on the server
from `templates/` in the reader's language and direction: no script, no outside asset, so
they load on a slow phone."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from booklnk.notifications.rendering import DIRECTIONS, formats

# The words of each page, per language (Arabic first: most readers are Egyptian).
WORDS: dict[str, dict[str, str]] = {
    "ar": {
        "title": "ادفع لتأكيد حجزك",
        "comma": "، ",
        "at": "في",
        "until": "ادفع قبل",
        "card": "بطاقة",
        "wallet": "محفظة إلكترونية",
        "fawry": "فوري",
        "pay_with": "ادفع عبر",
        "kashier": "تتم عملية الدفع على صفحة Kashier الآمنة.",
    },
    "en": {
        "title": "Pay to confirm your booking",
        "comma": ", ",
        "at": "at",
        "until": "Pay before",
        "card": "Card",
        "wallet": "Mobile wallet",
        "fawry": "Fawry",
        "pay_with": "Pay with",
        "kashier": "You pay on Kashier's secure page.",
    },
}


def render(name: str, language: str, **values: Any) -> str:
    """`templates/<name>.html` in `language` (its words, direction and formats)."""
    return (
        _environment()
        .get_template(f"{name}.html")
        .render(
            language=language,
            direction=DIRECTIONS[language],
            words=WORDS[language],
            written=formats(language),
            **values,
        )
    )


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("booklnk.api", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
