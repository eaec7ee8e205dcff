"""Test-mode card outcomes (PROTOCOL.md §7 decision). Pure: a card and today's date in,
an outcome out.

Any future expiry approves, except that the expiry month selects a failure as Kashier's
sandbox does: ``02`` declines, ``04`` answers "expired card", ``08`` times out (no webhook
at first, a late one afterwards). CVV ``102`` fails; a past expiry is an expired card.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

TEST_CARDS: dict[str, str] = {
    "5123450000000008": "Mastercard",
    "5111111111111118": "Mastercard",
    "4508750015741019": "Visa",
    "4012000033330026": "Visa",
}


class CardOutcome(enum.StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"
    EXPIRED = "expired"
    TIMED_OUT = "timed_out"


@dataclass(frozen=True, slots=True)
class CardResult:
    outcome: CardOutcome
    response_code: str  # ISO 8583-style, as in transactionResponseCode
    message: str


_RESULTS = {
    CardOutcome.APPROVED: CardResult(CardOutcome.APPROVED, "00", "Approved"),
    CardOutcome.DECLINED: CardResult(CardOutcome.DECLINED, "05", "Do not honour"),
    CardOutcome.EXPIRED: CardResult(CardOutcome.EXPIRED, "54", "Expired card"),
    CardOutcome.TIMED_OUT: CardResult(CardOutcome.TIMED_OUT, "91", "Issuer unavailable"),
}


def parse_expiry(text: str) -> tuple[int, int]:
    """``MM/YY`` (or ``MM/YYYY``) as (month, four-digit year)."""
    month_text, sep, year_text = text.strip().partition("/")
    if not sep or not month_text.isdigit() or not year_text.isdigit() or len(year_text) not in (2, 4):
        raise ValueError(f"expiry must be MM/YY, not {text!r}")
    month, year = int(month_text), int(year_text)
    if not 1 <= month <= 12:
        raise ValueError(f"expiry month must be 01-12, not {month_text!r}")
    return month, year + 2000 if len(year_text) == 2 else year


def card_outcome(number: str, expiry: str, cvv: str, today: date) -> CardResult:
    """What the sandbox answers for this card; raises ValueError for a card it would not
    accept at all (unknown number, malformed expiry)."""
    if number.replace(" ", "") not in TEST_CARDS:
        raise ValueError("not a Kashier test card")
    month, year = parse_expiry(expiry)
    if month == 2 or cvv == "102":
        return _RESULTS[CardOutcome.DECLINED]
    if month == 4 or (year, month) < (today.year, today.month):
        return _RESULTS[CardOutcome.EXPIRED]
    if month == 8:
        return _RESULTS[CardOutcome.TIMED_OUT]
    return _RESULTS[CardOutcome.APPROVED]


def card_brand(number: str) -> str:
    return TEST_CARDS[number.replace(" ", "")]


def mask(number: str) -> str:
    digits = number.replace(" ", "")
    return f"{digits[:6]}******{digits[-4:]}"
