"""The money decisions, pure: what a Kashier delivery does to an attempt, what late money
gives back, when a booking paid for stands no more, what can still be refunded, and which
gateway refund a retried intent may claim. No I/O: `settlement` and `refunds` gather the
facts (rows, ledger sums, the gateway's answer), call these, and carry out what they say,
so each rule is stated once and tested over every order of events without a database."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from booklnk.payments.kashier.client import Transaction


@dataclass(frozen=True, slots=True)
class Report:
    """What a signed delivery says happened."""

    event: str  # "pay" | "refund"
    status: str  # "SUCCESS" | "FAILURE" | "PENDING" …
    amount_minor: int
    currency: str

    @property
    def is_refund(self) -> bool:
        """A refund that was made (only such a refund needs vouching for)."""
        return self.event == "refund" and self.status == "SUCCESS"


@dataclass(frozen=True, slots=True)
class Attempt:
    """A payment attempt as the ledger knows it when the delivery is applied."""

    amount_minor: int
    currency: str
    open: bool  # started or pending: nothing decided yet
    flagged: bool = False  # a person must look: only a person clears it


# What to do with a `pay` delivery.
@dataclass(frozen=True, slots=True)
class Capture:
    """Record the money and settle its booking; mark the attempt paid unless it is
    flagged (the right money after wrong money leaves the wrong money to look at)."""

    mark_paid: bool = True


@dataclass(frozen=True, slots=True)
class FlagAmount:
    """Money other than expected: never applied silently; recorded if it was taken."""

    reason: str
    record: bool


@dataclass(frozen=True, slots=True)
class ReplayedRefund:
    """A refund's signed data sent as a payment: the money went out, not in."""


@dataclass(frozen=True, slots=True)
class ExtendHold:
    """Fawry issued a reference: the booking's time is kept for the method's window."""


@dataclass(frozen=True, slots=True)
class Stale:
    """News about an attempt already decided (paid, failed): changes nothing."""

    outcome: str


@dataclass(frozen=True, slots=True)
class Fail:
    """The attempt failed, if nothing was decided yet; a failure never undoes a payment."""

    mark_failed: bool
    outcome: str


PayDecision = Capture | FlagAmount | ReplayedRefund | ExtendHold | Stale | Fail


def on_pay(attempt: Attempt, report: Report, *, replayed_refund: bool) -> PayDecision:
    """A `pay` delivery. `replayed_refund`: its transaction id is one of our refunds."""
    if replayed_refund:
        return ReplayedRefund()
    if (report.amount_minor, report.currency) != (attempt.amount_minor, attempt.currency):
        what = f"pay {report.status}: {report.amount_minor} {report.currency}"
        return FlagAmount(
            f"{what}, expected {attempt.amount_minor} {attempt.currency}", record=report.status == "SUCCESS"
        )
    if report.status == "SUCCESS":
        return Capture(mark_paid=not attempt.flagged)
    if report.status == "PENDING":
        # A PENDING after its order failed (or was paid) is stale: it must not keep a dead
        # booking's time for another day.
        return ExtendHold() if attempt.open else Stale("pending_stale")
    # FAILURE (or anything else): the hold stays until its expiry so the customer can retry.
    return Fail(mark_failed=attempt.open, outcome=f"pay_{report.status.lower()}")


# What to do with a `refund` delivery.
@dataclass(frozen=True, slots=True)
class RecordRefund:
    """Record the refund; settle the intent that asked for it, if one did."""


@dataclass(frozen=True, slots=True)
class FlagRefund:
    """The refund cannot be recorded as it stands: a person must look."""

    reason: str


@dataclass(frozen=True, slots=True)
class Unverified:
    """No intent of ours and not at the gateway: most likely a payment's data re-sent."""


@dataclass(frozen=True, slots=True)
class NotMade:
    """A refund that failed or is pending: nothing moved yet."""

    outcome: str


RefundDecision = RecordRefund | FlagRefund | Unverified | NotMade


def on_refund(
    attempt: Attempt, report: Report, *, refunded_minor: int, vouched_capture: int | None
) -> RefundDecision:
    """A `refund` delivery, `refunded_minor` already recorded on the attempt.
    `vouched_capture`: what was captured, by whoever vouches for the refund (our ledger
    when one of our intents asked for it, the gateway's own total when its lookup lists
    it: the refund may overtake its payment's webhook), None when nobody does."""
    if not report.is_refund:
        return NotMade(f"refund_{report.status.lower()}")
    if vouched_capture is None:
        return Unverified()
    what = f"refund {report.amount_minor} {report.currency}"
    if report.currency != attempt.currency:
        return FlagRefund(f"{what}: the payment was in {attempt.currency}")
    after = refunded_minor + report.amount_minor
    if after > vouched_capture:
        return FlagRefund(f"{what}: refunds would reach {after}, above the {vouched_capture} captured")
    return RecordRefund()


def balance_surplus(*, paid_minor: int, price_minor: int, attempt_minor: int) -> int:
    """What a paid balance attempt gives back: money beyond the price (the desk took some
    meanwhile, or two pages were paid), never more than this attempt brought; 0 if none."""
    return max(0, min(paid_minor - price_minor, attempt_minor))


def withdraws(*, deposit_minor: int, confirmed: bool, captured_minor: int, paid_minor: int) -> bool:
    """A booking that stands because it was paid for (a deposit or the price up front)
    stands no more once all that money went back. One paid at the venue keeps standing:
    its online money was never its condition."""
    return deposit_minor > 0 and confirmed and captured_minor > 0 and paid_minor <= 0


def refund_share(left_minor: int, percent: int) -> int:
    """A cancellation policy's `percent` of what can still be refunded, in whole
    piasters (rounded down)."""
    return left_minor * percent // 100


def spread(amount_minor: int, lefts: list[int]) -> list[int]:
    """`amount_minor` taken from each attempt's refundable amount in turn, oldest first.
    Pure: the parts sum to the amount when the lefts cover it."""
    parts: list[int] = []
    for left in lefts:
        part = max(0, min(left, amount_minor - sum(parts)))
        parts.append(part)
    return parts


class ExceedsLeft(ValueError):
    """More asked back than can still be refunded."""


def refund_amount(*, asked_minor: int | None, left_minor: int) -> int | None:
    """How much a new refund intent is for: what was asked, or all that is left when
    nothing was; None when nothing is left and nothing in particular was asked."""
    if asked_minor is None:
        return left_minor if left_minor > 0 else None
    if asked_minor > left_minor:
        raise ExceedsLeft(asked_minor)
    return asked_minor


def unclaimed_refund(transactions: Iterable[Transaction], amount_minor: int, claimed: set[str]) -> str | None:
    """A refund of `amount_minor` the gateway made (or holds pending: made all the same)
    that no intent of ours has claimed: a retried intent takes it instead of sending again."""
    for tx in transactions:
        made = tx.operation == "refund" and tx.status in ("SUCCESS", "PENDING")
        if made and tx.amount_minor == amount_minor and tx.transaction_id not in claimed:
            return tx.transaction_id
    return None
