"""The cancellation policy: who may cancel when, and which share of what was paid goes
back. Pure: the booking, the rules, the clock in; a decision (or a 409) out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, NoReturn

from booklnk.booking.errors import CancellationWindowPassed
from booklnk.booking.models import Booking
from booklnk.business_types.definition import EffectiveRules


@dataclass(frozen=True, slots=True)
class CancellationDecision:
    """What the policy decided when a booking was cancelled: who cancelled, and which
    share of what was paid goes back."""

    by: Literal["customer", "business"]
    within_free_window: bool
    refund_percent: int

    @property
    def refundable(self) -> bool:
        return self.refund_percent > 0


def free_until(booking: Booking, rules: EffectiveRules) -> datetime:
    return booking.starts_at - timedelta(minutes=rules.cancellation_window_minutes)


def decide(
    booking: Booking, rules: EffectiveRules, now: datetime, *, by_business: bool
) -> CancellationDecision:
    """Customers cancel free until the type's window before the start; after it, only if
    the type allows late cancellation, for its share back. The business may cancel any
    time, and then the customer is always owed everything they paid."""
    within = now <= free_until(booking, rules)
    if by_business:
        return CancellationDecision("business", within, refund_percent=100)
    if within:
        return CancellationDecision("customer", within, refund_percent=100)
    if rules.late_cancellation_refund_percent is None:
        refuse_late(booking, rules)
    return CancellationDecision("customer", within, refund_percent=rules.late_cancellation_refund_percent)


def refuse_late(booking: Booking, rules: EffectiveRules) -> NoReturn:
    until = free_until(booking, rules)
    raise CancellationWindowPassed(
        f"Free cancellation ended at {until.isoformat()}; contact the business.",
        extra={"free_until": until.isoformat()},
    )
