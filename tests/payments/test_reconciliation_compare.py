"""`reconciliation.compare`, pure: what differs between our record of an order and the
gateway's, and what is healed."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from booklnk.payments.kashier.client import OrderFound, OrderNotFound, Transaction
from booklnk.payments.models import AttemptStatus, MismatchKind
from booklnk.payments.reconciliation import Local, compare

PAY = ("pay", "t-pay", "SUCCESS", 15_001)


BASE = Local(
    order_id="o-1",
    status=AttemptStatus.PAID,
    amount_minor=15_001,
    currency="EGP",
    captured=15_001,
    refunded=0,
    known=frozenset({PAY}),
)


def _local(**changes: Any) -> Local:
    return replace(BASE, **changes)


def _tx(transaction_id: str, operation: str, amount: int, status: str = "SUCCESS") -> Transaction:
    return Transaction(transaction_id, operation, status, amount, "EGP", None, None)


def _gateway(*transactions: Transaction) -> OrderFound:
    captured = sum(t.amount_minor for t in transactions if t.operation == "pay" and t.status == "SUCCESS")
    refunded = sum(t.amount_minor for t in transactions if t.operation == "refund" and t.status == "SUCCESS")
    return OrderFound("o-1", "k-1", "CAPTURED", "card", "EGP", 15_001, captured, refunded, transactions, {})


def _kinds(local: Local, remote: OrderFound | OrderNotFound) -> list[MismatchKind]:
    return [f.kind for f in compare(local, remote)]


def test_an_order_that_agrees_has_no_findings() -> None:
    assert compare(_local(), _gateway(_tx("t-pay", "pay", 15_001))) == []


def test_a_lost_capture_is_healed() -> None:
    [finding] = compare(
        _local(captured=0, status=AttemptStatus.STARTED, known=frozenset()),
        _gateway(_tx("t-pay", "pay", 15_001)),
    )
    assert finding.kind is MismatchKind.CAPTURED_NOT_RECORDED
    assert [(e.event, e.transaction_id, e.amount_minor) for e in finding.heal] == [("pay", "t-pay", 15_001)]


def test_a_dashboard_refund_is_healed_as_a_lost_refund() -> None:
    [finding] = compare(_local(), _gateway(_tx("t-pay", "pay", 15_001), _tx("t-ref", "refund", 8_230)))
    assert finding.kind is MismatchKind.REFUNDS_DIFFER
    assert [e.transaction_id for e in finding.heal] == ["t-ref"]


def test_money_we_hold_that_the_gateway_does_not_know() -> None:
    assert _kinds(_local(), OrderNotFound("o-1", "Order not found")) == [
        MismatchKind.PAID_HERE_NOT_AT_GATEWAY
    ]
    assert _kinds(_local(captured=0, status=AttemptStatus.STARTED), OrderNotFound("o-1", "nf")) == []


def test_a_refused_refund_is_flagged_for_a_person() -> None:
    [finding] = compare(_local(refused=(5_000,)), _gateway(_tx("t-pay", "pay", 15_001)))
    assert finding.kind is MismatchKind.REFUND_REFUSED
    assert "5000" in finding.ours
    assert finding.heal == ()


def test_a_long_pending_refund_is_flagged_unless_the_gateway_shows_it_done() -> None:
    pending = _local(long_pending=(2_000,))
    assert _kinds(pending, _gateway(_tx("t-pay", "pay", 15_001), _tx("t-r", "refund", 2_000, "PENDING"))) == [
        MismatchKind.REFUND_PENDING_LONG
    ]
    # Done at the gateway, its webhook lost: healed (which settles it), not flagged.
    assert _kinds(pending, _gateway(_tx("t-pay", "pay", 15_001), _tx("t-r", "refund", 2_000))) == [
        MismatchKind.REFUNDS_DIFFER
    ]
