"""Fault injection in the Kashier simulator, over real HTTP: duplicates, out-of-order
delivery, delay, drops, wrong signatures, a lookup that times out, and the retry schedule."""

from __future__ import annotations

import asyncio
import time

import pytest
from kashier_support import CLIENT_TIMEOUT, RETRY_DELAYS, Receiver, Sim, new_order_id

from booklnk.payments.kashier.client import KashierClient, KashierTimeout, OrderFound, RefundAccepted
from booklnk.payments.kashier.signing import WebhookCheck

ATTEMPTS = 1 + len(RETRY_DELAYS)


async def test_duplicates_are_sent_together_and_identical(sim: Sim, receiver: Receiver) -> None:
    order_id = new_order_id()
    await sim.faults(order_id, duplicates=2)
    await sim.pay(order_id)
    box = await sim.drained()
    hooks = receiver.received(order_id)
    assert len(hooks) == 3
    assert all(h.check is WebhookCheck.OK and h.answered == 200 for h in hooks)
    assert len({(h.event, h.data["transactionId"], h.data["status"], h.signature) for h in hooks}) == 1
    assert box["delivered"] == 3


async def test_hold_sends_the_refund_before_its_pay(sim: Sim, receiver: Receiver) -> None:
    order_id = new_order_id()
    await sim.faults(order_id, hold=True)
    await sim.pay(order_id)
    box = await sim.drained()
    assert (box["held"], receiver.received(order_id)) == (1, [])
    async with KashierClient(sim.config) as client:
        refund = await client.refund(order_id, 5000, "EGP")
    assert isinstance(refund, RefundAccepted)
    await sim.drained()
    hooks = receiver.received(order_id)
    assert [(h.event, h.data["status"]) for h in hooks] == [("refund", "SUCCESS"), ("pay", "SUCCESS")]
    assert all(h.check is WebhookCheck.OK for h in hooks)


async def test_hold_sends_a_failure_after_the_success(sim: Sim, receiver: Receiver) -> None:
    order_id = new_order_id()
    await sim.faults(order_id, hold=True)
    await sim.pay(order_id, expiry="02/39")
    await sim.admin("POST", "/__sim/pay", {"merchantOrderId": order_id})
    await sim.drained()
    assert [h.data["status"] for h in receiver.received(order_id)] == ["SUCCESS", "FAILURE"]


async def test_hold_delivers_fawry_success_before_its_pending(sim: Sim, receiver: Receiver) -> None:
    order_id = new_order_id()
    await sim.faults(order_id, hold=True)
    await sim.pay(order_id, method="fawry")
    await sim.admin("POST", f"/__sim/orders/{order_id}/fawry/paid")
    await sim.drained()
    assert [h.data["status"] for h in receiver.received(order_id)] == ["SUCCESS", "PENDING"]


async def test_held_webhooks_go_out_on_release(sim: Sim, receiver: Receiver) -> None:
    order_id = new_order_id()
    await sim.faults(order_id, hold=True, duplicates=1)
    await sim.pay(order_id)
    assert (await sim.drained())["held"] == 2
    assert (await sim.admin("POST", "/__sim/outbox/release")) == {"released": 2}
    box = await sim.drained()
    assert (box["held"], box["delivered"], len(receiver.received(order_id))) == (0, 2, 2)


async def test_delay_holds_the_first_attempt(sim: Sim, receiver: Receiver) -> None:
    order_id = new_order_id()
    await sim.faults(order_id, delay_seconds=0.6)
    started = time.monotonic()
    await sim.pay(order_id)
    await asyncio.sleep(0.2)
    assert receiver.received(order_id) == []
    assert (await sim.outbox())["pending"] == 1
    await sim.drained()
    [hook] = receiver.received(order_id)
    assert hook.at - started >= 0.6


async def test_dropped_webhooks_are_known_only_to_the_lookup(sim: Sim, receiver: Receiver) -> None:
    order_id = new_order_id()
    await sim.faults(order_id, drop=True)
    await sim.pay(order_id)
    async with KashierClient(sim.config) as client:
        refund = await client.refund(order_id, 1000, "EGP")
        found = await client.lookup_order(order_id)
    assert isinstance(refund, RefundAccepted)
    box = await sim.drained()
    assert (box["dropped"], box["delivered"]) == (2, 0)
    assert receiver.received(order_id) == []
    assert isinstance(found, OrderFound)
    assert (found.status, found.captured_minor, found.refunded_minor) == ("CAPTURED", 15000, 1000)


async def test_a_wrong_signature_is_refused_and_retried_until_dead(sim: Sim, receiver: Receiver) -> None:
    order_id = new_order_id()
    await sim.faults(order_id, wrong_signature=True)
    await sim.pay(order_id)
    box = await sim.drained()
    hooks = receiver.received(order_id)
    assert len(hooks) == ATTEMPTS
    assert {(h.check, h.answered) for h in hooks} == {(WebhookCheck.MISMATCH, 401)}
    assert box["dead"] == 1
    [delivery] = box["deliveries"]
    assert [a["statusCode"] for a in delivery["attempts"]] == [401] * ATTEMPTS


async def test_lookup_times_out_for_the_faulty_order_only(sim: Sim) -> None:
    slow, fine = new_order_id(), new_order_id()
    await sim.pay(slow)
    await sim.pay(fine)
    await sim.faults(slow, lookup_delay_seconds=CLIENT_TIMEOUT + 1)
    async with KashierClient(sim.config) as client:
        started = time.monotonic()
        with pytest.raises(KashierTimeout):
            await client.lookup_order(slow)
        assert time.monotonic() - started < CLIENT_TIMEOUT + 0.5
        assert isinstance(await client.lookup_order(fine), OrderFound)


async def test_retries_follow_the_schedule_until_answered_2xx(sim: Sim, receiver: Receiver) -> None:
    order_id = new_order_id()
    receiver.refuse_next(2)
    await sim.pay(order_id)
    box = await sim.drained()
    assert [h.answered for h in receiver.received(order_id)] == [503, 503, 200]
    [delivery] = box["deliveries"]
    assert delivery["state"] == "delivered"
    assert [a["statusCode"] for a in delivery["attempts"]] == [503, 503, 200]


async def test_an_unreachable_receiver_gets_every_retry_then_the_delivery_is_dead(
    sim: Sim, receiver: Receiver
) -> None:
    order_id = new_order_id()
    receiver.refuse_next(ATTEMPTS)
    await sim.pay(order_id)
    box = await sim.drained()
    assert len(receiver.received(order_id)) == ATTEMPTS
    assert box["dead"] == 1


async def test_global_faults_apply_to_every_order_unless_an_order_has_its_own(
    sim: Sim, receiver: Receiver
) -> None:
    doubled, plain = new_order_id(), new_order_id()
    await sim.faults(None, duplicates=1)
    await sim.faults(plain)  # all defaults: no faults for this order
    view = await sim.admin("GET", "/__sim/faults")
    assert view["global"]["duplicates"] == 1
    assert view["orders"][plain]["duplicates"] == 0
    await sim.pay(doubled)
    await sim.pay(plain)
    await sim.drained()
    assert (len(receiver.received(doubled)), len(receiver.received(plain))) == (2, 1)
    cleared = await sim.admin("DELETE", "/__sim/faults")
    assert (cleared["global"]["duplicates"], cleared["orders"]) == (0, {})


async def test_unknown_fault_names_are_refused(sim: Sim) -> None:
    response = await sim.http.post(f"{sim.url}/__sim/faults", json={"explode": True})
    assert response.status_code == 422


async def test_combined_faults_still_end_with_every_event_delivered_and_verified(
    sim: Sim, receiver: Receiver
) -> None:
    """Duplicates, hold-back and delay on one order with a retrying receiver: every event
    arrives at least once, correctly signed, refund before pay."""
    order_id = new_order_id()
    await sim.faults(order_id, duplicates=1, hold=True, delay_seconds=0.1)
    receiver.refuse_next(1)
    await sim.pay(order_id)
    async with KashierClient(sim.config) as client:
        refund = await client.refund(order_id, 2500, "EGP")
    assert isinstance(refund, RefundAccepted)
    await sim.drained()
    accepted = receiver.accepted(order_id)
    assert all(h.check is WebhookCheck.OK for h in accepted)
    assert [h.event for h in accepted] == ["refund", "refund", "pay", "pay"]
    assert len(receiver.received(order_id)) == 5  # the one refused attempt besides
