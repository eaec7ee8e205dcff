"""Kashier's answers as its own code reads them (PROTOCOL.md §8), from the simulator over
HTTP: a refund accepted by `response.result`, `response.status` SUCCESS or REFUNDED; a
refund that stays pending until it is settled; lookup totals carrying float noise."""

from __future__ import annotations

import pytest
from kashier_support import Receiver, Sim, new_order_id

from booklnk.payments.kashier.client import (
    KashierClient,
    OrderFound,
    RefundAccepted,
    RefundPending,
    minor_from_total,
)


@pytest.mark.parametrize("shape", ["result", "status", "refunded"])
async def test_a_refund_is_accepted_in_every_shape_kashier_answers_it(sim: Sim, shape: str) -> None:
    order_id = new_order_id()
    await sim.pay(order_id, 15000)
    await sim.faults(order_id, refund_answer=shape)
    async with KashierClient(sim.config) as client:
        answer = await client.refund(order_id, 5000, "EGP")
    assert isinstance(answer, RefundAccepted), answer
    assert answer.transaction_id


async def test_a_pending_refund_is_neither_accepted_nor_refused_until_it_settles(
    sim: Sim, receiver: Receiver
) -> None:
    order_id = new_order_id()
    await sim.pay(order_id, 15000)
    await sim.faults(order_id, refund_answer="pending")
    async with KashierClient(sim.config) as client:
        answer = await client.refund(order_id, 5000, "EGP")
        assert isinstance(answer, RefundPending), answer
        found = await client.lookup_order(order_id)
        assert isinstance(found, OrderFound)
        assert [(t.operation, t.status) for t in found.transactions] == [
            ("pay", "SUCCESS"),
            ("refund", "PENDING"),
        ]
        assert found.refunded_minor == 0
        await sim.admin("POST", f"/__sim/orders/{order_id}/refunds/settle")
        settled = await client.lookup_order(order_id)
    assert isinstance(settled, OrderFound)
    assert settled.refunded_minor == 5000
    await sim.drained()
    refunds = [h for h in receiver.received(order_id) if h.event == "refund"]
    assert [(h.data["transactionId"], h.data["status"]) for h in refunds] == [
        (answer.transaction_id, "SUCCESS")
    ]


async def test_lookup_totals_with_float_noise_are_read_to_the_piaster(sim: Sim) -> None:
    order_id = new_order_id()
    await sim.pay(order_id, 15000)
    async with KashierClient(sim.config) as client:
        for amount in (1010, 2020):
            assert isinstance(await client.refund(order_id, amount, "EGP"), RefundAccepted)
        found = await client.lookup_order(order_id)  # totalRefundedAmount: 30.299999999999997
    assert isinstance(found, OrderFound)
    assert found.raw["totalRefundedAmount"] == 10.1 + 20.2 != 30.3
    assert (found.captured_minor, found.refunded_minor) == (15000, 3030)
    assert found.raw["order"]["amount"] == "150.00"  # the order's own amount arrives as text


@pytest.mark.parametrize(
    ("total", "minor"),
    [(30.299999999999997, 3030), (0.1 + 0.2, 30), ("150.00", 15000), (150, 15000), (0.005, 1), (0.0049, 0)],
)
def test_a_total_is_rounded_half_up_to_the_piaster(total: float | str, minor: int) -> None:
    assert minor_from_total(total, "EGP") == minor


@pytest.mark.parametrize("bad", [True, None, "abc", float("inf"), float("nan"), [1]])
def test_a_total_that_is_no_amount_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="not an amount"):
        minor_from_total(bad, "EGP")
