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
        "problem_title": "تعذّر الدفع بهذا الرابط",
        "my_bookings": "حجوزاتي",
        "pay_link_not_found": "هذا الرابط غير صحيح أو غير مكتمل. افتحه كما وصلك في الرسالة،"
        " أو ادفع من حجوزاتك.",
        "pay_link_expired": "انتهت مهلة الدفع لهذا الحجز، فانتهت صلاحية الرابط معها. احجز موعدًا جديدًا.",
        "booking_not_payable": "لم يعد هذا الحجز بانتظار الدفع: دُفع أو أُلغي. راجع حجوزاتك.",
        "validation_failed": "اختر إحدى وسائل الدفع الظاهرة في الصفحة.",
        "too_many_requests": "طلبات كثيرة في وقت قصير. انتظر قليلًا ثم أعد المحاولة.",
        "problem_other": "تعذّر إتمام ذلك. أعد المحاولة، وإن تكرر فتواصل مع المكان.",
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
        "problem_title": "This pay link cannot be used",
        "my_bookings": "My bookings",
        "pay_link_not_found": "This link is not right or not complete. Open it exactly as it came in the"
        " message, or pay from your bookings.",
        "pay_link_expired": "The time to pay for this booking ran out, and the link with it."
        " Book another time.",
        "booking_not_payable": "This booking no longer waits for a payment: it was paid or cancelled."
        " Look at your bookings.",
        "validation_failed": "Choose one of the payment methods shown on the page.",
        "too_many_requests": "Too many tries in a short time. Wait a little and try again.",
        "problem_other": "That could not be done. Try again, and if it happens again, contact the place.",
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
