"""The money decisions over every order of events (hypothesis), without a database.

`Fold` applies deliveries as settlement does: one delivery per distinct (event,
transaction, status, amount), as webhook ingestion stores them; the ledger keyed by its
source, as its unique index keys it; the decision for each delivery from
`booklnk.payments.decisions`. The properties are what the gateway's truth demands whatever
order, repetition or noise its webhooks arrive in."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booklnk.payments import decisions
from booklnk.payments.decisions import Report
from booklnk.payments.kashier.client import Transaction

CURRENCY = "EGP"


@dataclass(frozen=True)
class Delivery:
    event: str
    transaction_id: str
    status: str
    amount_minor: int
    currency: str = CURRENCY

    @property
    def report(self) -> Report:
        return Report(self.event, self.status, self.amount_minor, self.currency)


@dataclass
class Fold:
    """An attempt for `amount_minor`, its ledger, and the gateway's captured total (what
    its lookup vouches for a refund with)."""

    amount_minor: int
    gateway_captured: int
    status: str = "started"
    ledger: dict[tuple[str, str], int] = field(default_factory=dict)
    seen: set[Delivery] = field(default_factory=set)
    flags: list[str] = field(default_factory=list)

    def total(self, kind: str) -> int:
        return sum(amount for (k, _), amount in self.ledger.items() if k == kind)

    def apply(self, delivery: Delivery) -> None:
        if delivery in self.seen:  # ingestion stores one delivery per distinct report
            return
        self.seen.add(delivery)
        attempt = decisions.Attempt(
            self.amount_minor,
            CURRENCY,
            open=self.status in ("started", "pending"),
            flagged=self.status == "flagged",
        )
        if delivery.event == "pay":
            self._pay(attempt, delivery)
        else:
            self._refund(attempt, delivery)

    def _pay(self, attempt: decisions.Attempt, delivery: Delivery) -> None:
        replayed = ("refund", delivery.transaction_id) in self.ledger
        match decisions.on_pay(attempt, delivery.report, replayed_refund=replayed):
            case decisions.Capture(mark_paid=mark_paid):
                self.ledger.setdefault(("capture", delivery.transaction_id), delivery.amount_minor)
                self.status = "paid" if mark_paid else self.status
            case decisions.FlagAmount(reason=reason, record=record):
                self.status = "flagged"
                self.flags.append(reason)
                if record:
                    self.ledger.setdefault(("capture", delivery.transaction_id), delivery.amount_minor)
            case decisions.ExtendHold():
                self.status = "pending"
            case decisions.Fail(mark_failed=True):
                self.status = "failed"
            case decisions.ReplayedRefund() | decisions.Stale() | decisions.Fail():
                pass

    def _refund(self, attempt: decisions.Attempt, delivery: Delivery) -> None:
        decision = decisions.on_refund(
            attempt,
            delivery.report,
            refunded_minor=self.total("refund"),
            vouched_capture=self.gateway_captured,
        )
        match decision:
            case decisions.RecordRefund():
                self.ledger.setdefault(("refund", delivery.transaction_id), delivery.amount_minor)
            case decisions.FlagRefund(reason=reason):
                self.status = "flagged"
                self.flags.append(reason)
            case decisions.Unverified() | decisions.NotMade():
                pass


@st.composite
def gateway_stories(
    draw: st.DrawFn, *, over_refund: bool = False
) -> tuple[int, list[Delivery], list[Delivery]]:
    """An attempt's amount, what the gateway made (one or two captures of it, refunds
    within them unless `over_refund`), and every delivery Kashier sends about it: each
    made transaction one to three times, failed tries and Fawry PENDINGs among them, in
    any order."""
    amount = draw(st.integers(1, 1_000_000))
    captures = [Delivery("pay", f"cap-{i}", "SUCCESS", amount) for i in range(draw(st.integers(1, 2)))]
    captured = amount * len(captures)
    refunds: list[Delivery] = []
    left = captured
    for i in range(draw(st.integers(0, 4))):
        if left <= 0 and not over_refund:
            break
        high = max(1, left) if not over_refund else captured
        part = draw(st.integers(1, high))
        refunds.append(Delivery("refund", f"ref-{i}", "SUCCESS", part))
        left -= part
    made = captures + refunds
    noise = [Delivery("pay", f"try-{i}", "FAILURE", amount) for i in range(draw(st.integers(0, 2)))]
    noise += [Delivery("pay", "fawry-ref", "PENDING", amount)] * draw(st.integers(0, 2))
    noise += [Delivery("refund", f"ref-failed-{i}", "FAILURE", 1) for i in range(draw(st.integers(0, 1)))]
    sent = [d for d in made for _ in range(draw(st.integers(1, 3)))] + noise
    return amount, made, draw(st.permutations(sent))


@given(gateway_stories())
def test_any_order_and_repetition_ends_with_the_gateways_truth_recorded_once(
    story: tuple[int, list[Delivery], list[Delivery]],
) -> None:
    amount, made, sent = story
    fold = Fold(amount, gateway_captured=sum(d.amount_minor for d in made if d.event == "pay"))
    for delivery in sent:
        fold.apply(delivery)
        # Never more given back than the gateway took, at any moment.
        assert fold.total("refund") <= fold.gateway_captured
    expected = {("capture" if d.event == "pay" else "refund", d.transaction_id): d.amount_minor for d in made}
    assert fold.ledger == expected
    assert fold.status == "paid"  # no failure, stale PENDING or refund undid the payment
    assert fold.flags == []


@given(gateway_stories())
def test_the_same_deliveries_in_any_two_orders_give_the_same_books(
    story: tuple[int, list[Delivery], list[Delivery]],
) -> None:
    amount, made, sent = story
    captured = sum(d.amount_minor for d in made if d.event == "pay")
    forward, backward = Fold(amount, captured), Fold(amount, captured)
    for delivery in sent:
        forward.apply(delivery)
    for delivery in reversed(sent):
        backward.apply(delivery)
    assert (forward.ledger, forward.status) == (backward.ledger, backward.status)


@given(gateway_stories(over_refund=True))
def test_refunds_beyond_the_capture_are_flagged_never_recorded(
    story: tuple[int, list[Delivery], list[Delivery]],
) -> None:
    amount, made, sent = story
    captured = sum(d.amount_minor for d in made if d.event == "pay")
    fold = Fold(amount, captured)
    for delivery in sent:
        fold.apply(delivery)
    assert fold.total("refund") <= fold.total("capture") == captured
    asked_back = sum(d.amount_minor for d in made if d.event == "refund")
    if asked_back > captured:
        # Flagged for good: a capture arriving after the flag does not clear it.
        assert fold.status == "flagged"
        assert any("above the" in flag for flag in fold.flags)


@given(
    amount=st.integers(1, 10**6),
    other=st.integers(1, 10**6),
    status=st.sampled_from(["SUCCESS", "FAILURE", "PENDING"]),
    currency=st.sampled_from([CURRENCY, "USD"]),
    open_=st.booleans(),
)
def test_money_other_than_expected_is_flagged_and_recorded_only_if_taken(
    amount: int, other: int, status: str, currency: str, open_: bool
) -> None:
    attempt = decisions.Attempt(amount, CURRENCY, open=open_)
    decision = decisions.on_pay(attempt, Report("pay", status, other, currency), replayed_refund=False)
    if (other, currency) == (amount, CURRENCY):
        assert not isinstance(decision, decisions.FlagAmount)
    else:
        assert decision == decisions.FlagAmount(
            f"pay {status}: {other} {currency}, expected {amount} {CURRENCY}", record=status == "SUCCESS"
        )


@given(status=st.sampled_from(["SUCCESS", "FAILURE", "PENDING"]), open_=st.booleans())
def test_a_refund_replayed_as_a_payment_is_never_taken_for_money_in(status: str, open_: bool) -> None:
    attempt = decisions.Attempt(100, CURRENCY, open=open_)
    decision = decisions.on_pay(attempt, Report("pay", status, 100, CURRENCY), replayed_refund=True)
    assert decision == decisions.ReplayedRefund()


def test_a_refund_nobody_vouches_for_is_not_recorded() -> None:
    attempt = decisions.Attempt(100, CURRENCY, open=False)
    report = Report("refund", "SUCCESS", 50, CURRENCY)
    assert (
        decisions.on_refund(attempt, report, refunded_minor=0, vouched_capture=None) == decisions.Unverified()
    )
    foreign = Report("refund", "SUCCESS", 50, "USD")
    assert isinstance(
        decisions.on_refund(attempt, foreign, refunded_minor=0, vouched_capture=100), decisions.FlagRefund
    )


@given(paid=st.integers(-(10**6), 10**6), price=st.integers(0, 10**6), attempt=st.integers(1, 10**6))
def test_a_balance_gives_back_only_what_is_beyond_the_price_and_at_most_itself(
    paid: int, price: int, attempt: int
) -> None:
    surplus = decisions.balance_surplus(paid_minor=paid, price_minor=price, attempt_minor=attempt)
    assert 0 <= surplus <= attempt
    if paid > price:
        assert paid - surplus == max(price, paid - attempt)
    else:
        assert surplus == 0


@pytest.mark.parametrize(
    ("deposit", "confirmed", "captured", "paid", "withdraws"),
    [
        (5_000, True, 5_000, 0, True),  # all of it went back
        (5_000, True, 5_000, 1_000, False),  # a partial refund: it still stands
        (0, True, 5_000, 0, False),  # paid at the venue: online money was never its condition
        (5_000, False, 5_000, 0, False),  # already cancelled or checked in
        (5_000, True, 0, 0, False),  # nothing was ever captured online (held, desk)
    ],
)
def test_a_booking_paid_for_stands_no_more_once_all_went_back(
    deposit: int, confirmed: bool, captured: int, paid: int, withdraws: bool
) -> None:
    found = decisions.withdraws(
        deposit_minor=deposit, confirmed=confirmed, captured_minor=captured, paid_minor=paid
    )
    assert found is withdraws


@given(asked=st.none() | st.integers(1, 10**6), left=st.integers(-(10**6), 10**6))
def test_a_refund_never_asks_for_more_than_is_left(asked: int | None, left: int) -> None:
    try:
        amount = decisions.refund_amount(asked_minor=asked, left_minor=left)
    except decisions.ExceedsLeft:
        assert asked is not None
        assert asked > left
        return
    if amount is None:
        assert asked is None
        assert left <= 0
    else:
        assert 0 < amount <= left
        assert amount == (left if asked is None else asked)


@st.composite
def lookups(draw: st.DrawFn) -> tuple[list[Transaction], int, set[str]]:
    amount = draw(st.integers(1, 5))
    txs = [
        Transaction(
            f"tx-{i}",
            draw(st.sampled_from(["pay", "refund"])),
            draw(st.sampled_from(["SUCCESS", "FAILURE", "PENDING"])),
            draw(st.integers(1, 5)),
            CURRENCY,
            None,
            None,
        )
        for i in range(draw(st.integers(0, 6)))
    ]
    claimed = (
        set(draw(st.lists(st.sampled_from([tx.transaction_id for tx in txs]), unique=True))) if txs else set()
    )
    return txs, amount, claimed


@given(lookups())
def test_a_retried_intent_claims_only_a_made_refund_of_its_amount_nobody_claimed(
    found: tuple[list[Transaction], int, set[str]],
) -> None:
    txs, amount, claimed = found
    chosen = decisions.unclaimed_refund(txs, amount, claimed)
    candidates = [
        tx.transaction_id
        for tx in txs
        if tx.operation == "refund"
        and tx.status in ("SUCCESS", "PENDING")
        and tx.amount_minor == amount
        and tx.transaction_id not in claimed
    ]
    assert chosen == (candidates[0] if candidates else None)
