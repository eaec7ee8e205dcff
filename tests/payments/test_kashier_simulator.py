"""The Kashier simulator end to end over real HTTP: hosted page and its hash check, card,
wallet and Fawry payments, signed redirects and webhooks, lookup and refund through the
real client."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from kashier_support import API_KEY, LATE_WEBHOOK_DELAY, MID, Receiver, Sim, new_order_id

from booklnk.payments.kashier.client import (
    KashierClient,
    KashierUnauthorized,
    KashierUnavailable,
    OrderFound,
    OrderNotFound,
    RefundAccepted,
    RefundRefused,
    hosted_page_url,
)
from booklnk.payments.kashier.config import KashierConfig
from booklnk.payments.kashier.signing import WebhookCheck, order_hash, verify_redirect, verify_webhook


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


# --- hosted payment page ------------------------------------------------------------------------


async def test_hosted_page_shows_a_form_for_a_correctly_hashed_order(sim: Sim) -> None:
    response = await sim.http.get(sim.checkout_url(new_order_id(), 15050))
    assert response.status_code == 200
    assert "<form" in response.text
    assert "150.50 EGP" in response.text


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"amount": "150.01"}, 403),  # tampered amount
        ({"amount": "150"}, 403),  # same value, other string: the hash covers the string
        ({"orderId": "someone-elses"}, 403),
        ({"currency": "USD"}, 403),
        ({"hash": "0" * 64}, 403),
        ({"merchantId": "MID-9999-999"}, 403),
        ({"hash": ""}, 400),
    ],
)
async def test_hosted_page_refuses_a_forged_order(sim: Sim, change: dict[str, str], status: int) -> None:
    params = {**query(sim.checkout_url(new_order_id())), **change}
    response = await sim.http.get(f"{sim.url}/", params=params)
    assert response.status_code == status
    # Nothing to pay either.
    paid = await sim.http.post(f"{sim.url}/__sim/pay", json={"url": str(response.url)})
    assert paid.status_code == status


async def test_a_hash_over_the_raw_amount_string_is_accepted(sim: Sim) -> None:
    """Another merchant may send "150" rather than "150.00": the hash is over what was sent."""
    order_id = new_order_id()
    params = {**query(sim.checkout_url(order_id)), "amount": "150"}
    params["hash"] = order_hash(API_KEY, MID, order_id, "150", "EGP")
    assert (await sim.http.get(f"{sim.url}/", params=params)).status_code == 200


async def test_reusing_an_order_id_for_another_amount_is_refused(sim: Sim) -> None:
    order_id = new_order_id()
    assert (await sim.http.get(sim.checkout_url(order_id, 15000))).status_code == 200
    assert (await sim.http.get(sim.checkout_url(order_id, 15000))).status_code == 200
    assert (await sim.http.get(sim.checkout_url(order_id, 20000))).status_code == 409


# --- card payments ------------------------------------------------------------------------------


async def test_card_payment_sends_a_webhook_our_verifier_accepts(sim: Sim, receiver: Receiver) -> None:
    order_id = new_order_id()
    paid = await sim.pay(order_id, 15050)
    assert (paid["status"], paid["outcome"]) == ("SUCCESS", "approved")
    await sim.drained()
    [hook] = receiver.received(order_id)
    assert hook.event == "pay"
    assert hook.check is WebhookCheck.OK
    assert verify_webhook(API_KEY, hook.data, hook.signature)
    assert hook.data["status"] == "SUCCESS"
    assert hook.data["amount"] == 150.5
    assert hook.data["currency"] == "EGP"
    assert hook.data["transactionId"] == paid["transactionId"]
    assert hook.data["method"] == "card"
    assert hook.data["card"]["cardInfo"]["maskedCard"] == "511111******1118"


async def test_the_redirect_carries_a_verifiable_signature(sim: Sim) -> None:
    order_id = new_order_id()
    paid = await sim.pay(order_id)
    redirect = paid["redirectUrl"]
    assert redirect.startswith("http://shop.example/return?booking=42&")
    params = query(redirect)
    assert verify_redirect(API_KEY, params)
    assert params["paymentStatus"] == "SUCCESS"
    assert params["merchantOrderId"] == order_id
    assert params["amount"] == "150.00"
    assert params["mode"] == "test"
    assert not verify_redirect(API_KEY, {**params, "paymentStatus": "FAILURE"})


async def test_the_html_form_redirects_the_browser_with_302(sim: Sim, receiver: Receiver) -> None:
    order_id = new_order_id()
    await sim.http.get(sim.checkout_url(order_id))
    form = {
        "orderId": order_id,
        "method": "card",
        "cardNumber": "4508750015741019",
        "expiry": "12/39",
        "cvv": "100",
    }
    response = await sim.http.post(f"{sim.url}/pay", data=form)
    assert response.status_code == 302
    params = query(response.headers["location"])
    assert verify_redirect(API_KEY, params)
    assert params["cardBrand"] == "Visa"
    await sim.drained()
    assert [h.data["status"] for h in receiver.received(order_id)] == ["SUCCESS"]


@pytest.mark.parametrize(
    ("expiry", "cvv", "outcome", "code"),
    [
        ("02/39", "100", "declined", "05"),
        ("04/39", "100", "expired", "54"),
        ("12/20", "100", "expired", "54"),
    ],
)
async def test_failing_cards_send_a_failure_webhook(
    sim: Sim, receiver: Receiver, expiry: str, cvv: str, outcome: str, code: str
) -> None:
    order_id = new_order_id()
    paid = await sim.pay(order_id, expiry=expiry, cvv=cvv)
    assert (paid["status"], paid["outcome"]) == ("FAILURE", outcome)
    assert query(paid["redirectUrl"])["paymentStatus"] == "FAILURE"
    await sim.drained()
    [hook] = receiver.received(order_id)
    assert (hook.event, hook.data["status"], hook.data["transactionResponseCode"]) == ("pay", "FAILURE", code)
    assert hook.check is WebhookCheck.OK


async def test_a_wrong_cvv_declines_and_the_customer_may_retry(sim: Sim, receiver: Receiver) -> None:
    order_id = new_order_id()
    assert (await sim.pay(order_id, cvv="102"))["status"] == "FAILURE"
    retry = await sim.admin("POST", "/__sim/pay", {"merchantOrderId": order_id})
    assert retry["status"] == "SUCCESS"
    again = await sim.http.post(f"{sim.url}/__sim/pay", json={"merchantOrderId": order_id})
    assert again.status_code == 409
    await sim.drained()
    assert [h.data["status"] for h in receiver.received(order_id)] == ["FAILURE", "SUCCESS"]


async def test_a_timed_out_card_is_silent_then_settles_late(sim: Sim, receiver: Receiver) -> None:
    order_id = new_order_id()
    paid = await sim.pay(order_id, expiry="08/39")
    assert (paid["status"], paid["outcome"]) == ("PENDING", "timed_out")
    async with KashierClient(sim.config) as client:
        pending = await client.lookup_order(order_id)
        assert isinstance(pending, OrderFound)
        assert pending.status == "PENDING"
        assert receiver.received(order_id) == []
        box = await sim.drained(within=LATE_WEBHOOK_DELAY + 5)
        assert box["delivered"] == 1
        [hook] = receiver.received(order_id)
        assert hook.data["status"] == "SUCCESS"
        assert hook.data["transactionId"] == paid["transactionId"]
        settled = await client.lookup_order(order_id)
        assert isinstance(settled, OrderFound)
        assert (settled.status, settled.captured_minor) == ("CAPTURED", 15000)


async def test_unknown_test_cards_and_unallowed_methods_are_refused(sim: Sim) -> None:
    order_id = new_order_id()
    await sim.http.get(sim.checkout_url(order_id, methods="card"))
    bad_card = await sim.http.post(
        f"{sim.url}/__sim/pay", json={"merchantOrderId": order_id, "cardNumber": "4111111111111111"}
    )
    assert bad_card.status_code == 400
    wallet = await sim.http.post(
        f"{sim.url}/__sim/pay", json={"merchantOrderId": order_id, "method": "wallet"}
    )
    assert wallet.status_code == 400


# --- wallet and Fawry ----------------------------------------------------------------------------


@pytest.mark.parametrize(("choice", "status"), [("approve", "SUCCESS"), ("decline", "FAILURE")])
async def test_wallet_payments(sim: Sim, receiver: Receiver, choice: str, status: str) -> None:
    order_id = new_order_id()
    assert (await sim.pay(order_id, method="wallet", outcome=choice))["status"] == status
    await sim.drained()
    [hook] = receiver.received(order_id)
    assert (hook.data["method"], hook.data["status"], hook.check) == ("wallet", status, WebhookCheck.OK)


@pytest.mark.parametrize(
    ("action", "final", "lookup_status"), [("paid", "SUCCESS", "CAPTURED"), ("expire", "FAILURE", "FAILED")]
)
async def test_fawry_is_pending_then_settled(
    sim: Sim, receiver: Receiver, action: str, final: str, lookup_status: str
) -> None:
    order_id = new_order_id()
    paid = await sim.pay(order_id, method="fawry")
    assert paid["status"] == "PENDING"
    assert paid["fawryReference"]
    await sim.drained()
    [pending] = receiver.received(order_id)
    assert pending.data["status"] == "PENDING"
    assert pending.data["fawryReference"] == paid["fawryReference"]
    assert "fawryReference" not in pending.data["signatureKeys"]
    assert pending.check is WebhookCheck.OK

    await sim.admin("POST", f"/__sim/orders/{order_id}/fawry/{action}")
    await sim.drained()
    assert [h.data["status"] for h in receiver.received(order_id)] == ["PENDING", final]
    assert receiver.received(order_id)[1].data["transactionId"] == paid["transactionId"]
    settle_again = await sim.http.post(f"{sim.url}/__sim/orders/{order_id}/fawry/paid")
    assert settle_again.status_code == 409
    async with KashierClient(sim.config) as client:
        found = await client.lookup_order(order_id)
    assert isinstance(found, OrderFound)
    assert found.status == lookup_status


# --- lookup and refunds through the client ---------------------------------------------------------


async def test_lookup_of_a_paid_order(sim: Sim) -> None:
    order_id = new_order_id()
    paid = await sim.pay(order_id, 15050)
    async with KashierClient(sim.config) as client:
        found = await client.lookup_order(order_id)
    assert isinstance(found, OrderFound)
    assert found.merchant_order_id == order_id
    assert found.kashier_order_id == paid["kashierOrderId"]
    assert (found.status, found.method, found.currency) == ("CAPTURED", "card", "EGP")
    assert (found.order_amount_minor, found.captured_minor, found.refunded_minor) == (15050, 15050, 0)
    [tx] = found.transactions
    assert (tx.transaction_id, tx.operation, tx.status, tx.amount_minor) == (
        paid["transactionId"],
        "pay",
        "SUCCESS",
        15050,
    )


async def test_lookup_of_an_unknown_order(sim: Sim) -> None:
    async with KashierClient(sim.config) as client:
        assert isinstance(await client.lookup_order("never-seen"), OrderNotFound)
        # An order whose page was opened but never paid is unknown to the gateway too.
        order_id = new_order_id()
        await sim.http.get(sim.checkout_url(order_id))
        assert isinstance(await client.lookup_order(order_id), OrderNotFound)


async def test_apis_refuse_a_wrong_secret_key(sim: Sim) -> None:
    order_id = new_order_id()
    await sim.pay(order_id)
    wrong = KashierConfig.create(
        mid=MID, api_key=API_KEY, secret_key="not-the-secret", api_url=sim.url, fep_url=sim.url
    )
    async with KashierClient(wrong) as client:
        with pytest.raises(KashierUnauthorized):
            await client.lookup_order(order_id)
        with pytest.raises(KashierUnauthorized):
            await client.refund(order_id, 100, "EGP")
    bearer = await sim.http.get(
        f"{sim.url}/payments/orders/{order_id}",
        headers={"Authorization": f"Bearer {sim.config.secret_key.get_secret_value()}"},
    )
    assert bearer.status_code == 401


async def test_partial_refunds_up_to_the_captured_amount(sim: Sim, receiver: Receiver) -> None:
    order_id = new_order_id()
    await sim.pay(order_id, 15000)
    async with KashierClient(sim.config) as client:
        first = await client.refund(order_id, 5050, "EGP", reason="partial")
        assert isinstance(first, RefundAccepted)
        too_much = await client.refund(order_id, 10000, "EGP")
        assert isinstance(too_much, RefundRefused)
        assert "exceeds" in too_much.message
        wrong_currency = await client.refund(order_id, 100, "USD")
        assert isinstance(wrong_currency, RefundRefused)
        rest = await client.refund(order_id, 9950, "EGP")
        assert isinstance(rest, RefundAccepted)
        assert isinstance(await client.refund(order_id, 1, "EGP"), RefundRefused)
        found = await client.lookup_order(order_id)
    assert isinstance(found, OrderFound)
    assert (found.captured_minor, found.refunded_minor) == (15000, 15000)
    assert [(t.operation, t.amount_minor) for t in found.transactions] == [
        ("pay", 15000),
        ("refund", 5050),
        ("refund", 9950),
    ]
    await sim.drained()
    refunds = [h for h in receiver.received(order_id) if h.event == "refund"]
    assert [(h.data["transactionId"], h.data["amount"]) for h in refunds] == [
        (first.transaction_id, 50.5),
        (rest.transaction_id, 99.5),
    ]
    assert all(h.check is WebhookCheck.OK and h.data["status"] == "SUCCESS" for h in refunds)


async def test_refunding_an_unpaid_or_unknown_order_is_refused(sim: Sim) -> None:
    order_id = new_order_id()
    await sim.pay(order_id, expiry="02/39")
    async with KashierClient(sim.config) as client:
        assert isinstance(await client.refund(order_id, 100, "EGP"), RefundRefused)
        assert isinstance(await client.refund("never-seen", 100, "EGP"), RefundRefused)


async def test_reset_forgets_everything(sim: Sim) -> None:
    order_id = new_order_id()
    await sim.pay(order_id)
    await sim.admin("POST", "/__sim/reset")
    async with KashierClient(sim.config) as client:
        assert isinstance(await client.lookup_order(order_id), OrderNotFound)
    assert (await sim.outbox())["deliveries"] == []


# --- the real gateway's quirks --------------------------------------------------------------------


@pytest.mark.parametrize(("flag", "redirected"), [(None, True), (True, True), (False, False)])
async def test_failure_redirect_is_a_flag(sim: Sim, flag: bool | None, redirected: bool) -> None:
    """Kashier's failureRedirect says whether a failed payer goes to merchantRedirect too
    (default yes), not where: false keeps them on Kashier's page."""
    order_id = new_order_id()
    url = hosted_page_url(
        sim.config,
        order_id,
        15000,
        "EGP",
        ["card"],
        "http://shop.example/return",
        sim.webhook_url,
        failure_redirect=flag,
    )
    if flag is not None:
        assert query(url)["failureRedirect"] == ("true" if flag else "false")
    assert (await sim.http.get(url)).status_code == 200
    failed = await sim.admin("POST", "/__sim/pay", {"merchantOrderId": order_id, "expiry": "02/39"})
    assert failed["status"] == "FAILURE"
    assert (failed["redirectUrl"] is not None) is redirected
    if redirected:
        assert failed["redirectUrl"].startswith("http://shop.example/return?")
    paid = await sim.admin("POST", "/__sim/pay", {"merchantOrderId": order_id})
    assert paid["redirectUrl"].startswith("http://shop.example/return?")  # success always returns


async def test_bad_gateway_answers_502_a_given_number_of_times_and_makes_nothing(sim: Sim) -> None:
    order_id = new_order_id()
    await sim.pay(order_id, 15000)
    await sim.faults(order_id, bad_gateway=3)
    async with KashierClient(sim.config) as client:
        with pytest.raises(KashierUnavailable, match="502"):
            await client.lookup_order(order_id)
        with pytest.raises(KashierUnavailable, match="502"):
            await client.refund(order_id, 1_000, "EGP")
        with pytest.raises(KashierUnavailable, match="502"):
            await client.lookup_order(order_id)
        found = await client.lookup_order(order_id)  # the fourth call reaches Kashier
    assert isinstance(found, OrderFound)
    assert found.refunded_minor == 0  # the refund answered 502 was never made


async def test_a_dashboard_refund_is_made_and_reported_like_any_other(sim: Sim, receiver: Receiver) -> None:
    order_id = new_order_id()
    await sim.pay(order_id, 15000)
    made = await sim.admin("POST", f"/__sim/orders/{order_id}/refunds", {"amountMinor": 4_321})
    assert made["status"] == "SUCCESS"
    async with KashierClient(sim.config) as client:
        found = await client.lookup_order(order_id)
    assert isinstance(found, OrderFound)
    assert found.refunded_minor == 4_321
    await sim.drained()
    [refund] = [h for h in receiver.received(order_id) if h.event == "refund"]
    assert (refund.data["transactionId"], refund.data["amount"]) == (made["transactionId"], 43.21)
    too_much = await sim.http.post(f"{sim.url}/__sim/orders/{order_id}/refunds", json={"amountMinor": 20_000})
    assert too_much.status_code == 400
