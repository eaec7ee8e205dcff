"""Paying for a held booking end to end, over real HTTP: our API (two uvicorn processes)
hands out the hosted-page URL, the Kashier simulator takes the payment and sends its
signed webhook to our API, and `booklnk worker` processes apply it. The database is
audited afterwards: one delivery row per distinct event, one ledger row per capture."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from flow_support import (
    CAIRO,
    CARD,
    booking_status,
    held_booking,
    money,
    ok,
    paid_booking,
    pay,
    reconcile_cli,
    reconcile_here,
    set_faults,
    start_checkout,
    until,
)
from kashier_support import SECRET_KEY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.db.database import Database
from support import Account


async def test_a_card_payment_confirms_the_booking_and_records_the_deposit(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> None:
    base = consultancy[0]
    customer, booking = await held_booking(http, consultancy)
    checkout = await start_checkout(http, base, customer, booking)
    assert checkout["amount_minor"] == 15_001  # 50% of 300.01 EGP, rounded up to a piaster
    assert checkout["url"].startswith(simulator_url)
    paid = await pay(simulator_url, checkout, **CARD)
    assert paid["status"] == "SUCCESS"

    status = await until(lambda: booking_status(http, base, customer, booking["id"]), "confirmed")
    assert status == "confirmed"
    ledger, deliveries, outcomes = await money(owner_engine, checkout["order_id"])
    assert (ledger, deliveries, outcomes) == ([("capture", 15_001)], 1, ["confirmed"])

    # The browser comes back: the signed redirect shows the booking, changes nothing.
    async with httpx.AsyncClient() as browser:
        back = await browser.get(paid["redirectUrl"])
    assert back.status_code == 200, back.text
    assert (back.json()["booking_status"], back.json()["attempt_status"]) == ("confirmed", "paid")
    # The deposit confirmed it; the rest is due and may be paid online too (or at the desk).
    shown = await http.get(f"{base}/bookings/{booking['id']}", headers=customer.headers)
    assert {k: shown.json()["money"][k] for k in ("price_minor", "deposit_minor", "paid_minor")} == {
        "price_minor": 30_001,
        "deposit_minor": 15_001,
        "paid_minor": 15_001,
    }
    assert shown.json()["money"]["balance_due_minor"] == 15_000
    rest = await http.post(
        f"{base}/bookings/{booking['id']}/payments", headers=customer.headers, json={"method": "card"}
    )
    assert rest.status_code == 201, rest.text
    assert (rest.json()["amount_minor"], rest.json()["purpose"]) == (15_000, "balance")
    paid_rest = await pay(simulator_url, rest.json(), **CARD)
    assert paid_rest["status"] == "SUCCESS"

    async def due() -> int:
        shown = await http.get(f"{base}/bookings/{booking['id']}", headers=customer.headers)
        return int(shown.json()["money"]["balance_due_minor"])

    assert await until(due, 0) == 0
    assert await booking_status(http, base, customer, booking["id"]) == "confirmed"
    done = await http.post(
        f"{base}/bookings/{booking['id']}/payments", headers=customer.headers, json={"method": "card"}
    )
    assert (done.status_code, done.json()["code"]) == (409, "booking_not_payable")
    # The business cancels: everything paid online goes back, from both attempts.
    owner = consultancy[1]
    cancelled = await http.post(f"{base}/bookings/{booking['id']}/cancel", headers=owner.headers)
    assert cancelled.json()["cancellation"]["refund_minor"] == 30_001, cancelled.text
    shown = await http.get(f"{base}/bookings/{booking['id']}/payments", headers=owner.headers)
    assert sorted(r["amount_minor"] for r in shown.json()["refunds"]) == [15_000, 15_001]

    # The customer is told of the balance received (the deposit: by the confirmation) and
    # of each refund once the gateway reported it.
    async def told() -> list[tuple[str, int]]:
        async with owner_engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT template, (params->>'amount_minor')::int FROM outbox_message"
                    " WHERE booking_id = :b AND template IN ('payment_received', 'refund_sent')"
                    " ORDER BY 1, 2"
                ),
                {"b": booking["id"]},
            )
            return [(r[0], r[1]) for r in rows]

    expected = [("payment_received", 15_000), ("refund_sent", 15_000), ("refund_sent", 15_001)]
    assert await until(told, expected) == expected


async def test_duplicated_webhooks_are_stored_and_applied_once(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> None:
    base = consultancy[0]
    customer, booking = await held_booking(http, consultancy)
    checkout = await start_checkout(http, base, customer, booking)
    await set_faults(simulator_url, checkout["order_id"], duplicates=3)
    await pay(simulator_url, checkout, **CARD)
    assert (
        await until(lambda: booking_status(http, base, customer, booking["id"]), "confirmed") == "confirmed"
    )
    await asyncio.sleep(1)  # room for a wrong second application to show
    ledger, deliveries, _ = await money(owner_engine, checkout["order_id"])
    assert (ledger, deliveries) == ([("capture", 15_001)], 1)


async def test_a_forged_webhook_changes_nothing(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> None:
    base = consultancy[0]
    customer, booking = await held_booking(http, consultancy)
    checkout = await start_checkout(http, base, customer, booking)
    await set_faults(simulator_url, checkout["order_id"], wrong_signature=True)
    await pay(simulator_url, checkout, **CARD)
    await asyncio.sleep(2)
    assert await booking_status(http, base, customer, booking["id"]) == "held"
    assert await money(owner_engine, checkout["order_id"]) == ([], 0, [])


async def test_a_declined_card_fails_the_attempt_and_keeps_the_hold(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> None:
    base = consultancy[0]
    customer, booking = await held_booking(http, consultancy)
    checkout = await start_checkout(http, base, customer, booking)
    await pay(simulator_url, checkout, **{**CARD, "expiry": "02/39"})

    async def outcome() -> list[str]:
        return (await money(owner_engine, checkout["order_id"]))[2]

    assert await until(outcome, ["pay_failure"]) == ["pay_failure"]
    assert await booking_status(http, base, customer, booking["id"]) == "held"
    retry = await start_checkout(http, base, customer, booking)  # a new attempt, a new order id
    assert retry["order_id"] != checkout["order_id"]


async def test_fawry_pending_extends_the_hold_then_the_cash_confirms(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> None:
    base = consultancy[0]
    customer, booking = await held_booking(http, consultancy, method="fawry")
    checkout = await start_checkout(http, base, customer, booking, method="fawry")
    paid = await pay(simulator_url, checkout, method="fawry")
    assert paid["status"] == "PENDING"

    async def outcome() -> list[str]:
        return (await money(owner_engine, checkout["order_id"]))[2]

    assert await until(outcome, ["hold_extended"]) == ["hold_extended"]
    held = await ok(http, customer, "GET", f"{base}/bookings/{booking['id']}")
    expires = datetime.fromisoformat(held["hold_expires_at"])
    assert expires > datetime.now(UTC) + timedelta(hours=23)  # the consultant's Fawry hold: 24 h
    async with httpx.AsyncClient() as sim:
        settled = await sim.post(f"{simulator_url}/__sim/orders/{checkout['order_id']}/fawry/paid")
        assert settled.status_code == 200, settled.text
    assert (
        await until(lambda: booking_status(http, base, customer, booking["id"]), "confirmed") == "confirmed"
    )
    ledger, _, outcomes = await money(owner_engine, checkout["order_id"])
    assert (ledger, outcomes) == ([("capture", 15_001)], ["hold_extended", "confirmed"])


async def test_a_stale_fawry_pending_after_its_failure_keeps_no_hold(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> None:
    base = consultancy[0]
    customer, booking = await held_booking(http, consultancy, method="fawry")
    checkout = await start_checkout(http, base, customer, booking, method="fawry")
    # The PENDING is held back until the order's next webhook (its FAILURE) was delivered.
    await set_faults(simulator_url, checkout["order_id"], hold=True)
    assert (await pay(simulator_url, checkout, method="fawry"))["status"] == "PENDING"
    async with httpx.AsyncClient() as sim:
        expired = await sim.post(f"{simulator_url}/__sim/orders/{checkout['order_id']}/fawry/expire")
        assert expired.status_code == 200, expired.text

    async def outcome() -> list[str]:
        return (await money(owner_engine, checkout["order_id"]))[2]

    assert await until(outcome, ["pay_failure", "pending_stale"]) == ["pay_failure", "pending_stale"]
    held = await ok(http, customer, "GET", f"{base}/bookings/{booking['id']}")
    # The checkout window it had, not Fawry's day: the order is dead.
    assert held["hold_expires_at"] == booking["hold_expires_at"]


async def test_cancelling_a_paid_booking_refunds_it_through_kashier(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> None:
    base = consultancy[0]
    customer, booking, checkout = await paid_booking(http, consultancy, simulator_url)
    cancelled = await ok(http, customer, "POST", f"{base}/bookings/{booking['id']}/cancel")
    assert cancelled["cancellation"]["refund_minor"] == 15_001

    async def ledger() -> list[tuple[str, int]]:
        return (await money(owner_engine, checkout["order_id"]))[0]

    expected = [("capture", 15_001), ("refund", 15_001)]
    assert await until(ledger, expected) == expected
    async with httpx.AsyncClient() as sim:
        order = (
            await sim.get(
                f"{simulator_url}/payments/orders/{checkout['order_id']}",
                headers={"Authorization": SECRET_KEY},
            )
        ).json()["response"]
    assert (order["totalCapturedAmount"], order["totalRefundedAmount"]) == (150.01, 150.01)


async def test_an_owner_refunds_in_parts_never_beyond_the_capture(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> None:
    base, owner, _ = consultancy
    _, booking, checkout = await paid_booking(http, consultancy, simulator_url)
    path = f"{base}/bookings/{booking['id']}/refunds"
    first = await ok(http, owner, "POST", path, {"amount_minor": 5_000, "reason": "goodwill"})
    assert first["status"] == "requested"
    too_much = await http.post(path, headers=owner.headers, json={"amount_minor": 10_002})
    assert too_much.status_code == 422
    assert too_much.json()["errors"][0]["rule"] == "exceeds_captured"
    await ok(http, owner, "POST", path, {"amount_minor": 10_001})

    async def ledger() -> list[tuple[str, int]]:
        return sorted((await money(owner_engine, checkout["order_id"]))[0])

    expected = sorted([("capture", 15_001), ("refund", 5_000), ("refund", 10_001)])
    assert await until(ledger, expected) == expected

    async def refunds() -> list[tuple[int, str]]:
        found = await ok(http, owner, "GET", f"{base}/bookings/{booking['id']}/payments")
        return sorted((r["amount_minor"], r["status"]) for r in found["refunds"])

    settled = [(5_000, "settled"), (10_001, "settled")]  # each by its own refund webhook
    assert await until(refunds, settled) == settled
    nothing_left = await http.post(path, headers=owner.headers, json={"amount_minor": 1})
    assert (nothing_left.status_code, nothing_left.json()["code"]) == (409, "nothing_to_refund")


async def test_a_refund_kashier_leaves_pending_stays_pending_until_it_settles(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> None:
    """Kashier's answer says PENDING (in `response.result`, as its plugin reads it): the
    refund is taken, not refused; its webhook settles it once the gateway has done it."""
    base, owner, _ = consultancy
    _, booking, checkout = await paid_booking(http, consultancy, simulator_url)
    await set_faults(simulator_url, checkout["order_id"], refund_answer="pending")
    await ok(http, owner, "POST", f"{base}/bookings/{booking['id']}/refunds", {"amount_minor": 5_000})

    async def refunds() -> list[tuple[int, str]]:
        found = await ok(http, owner, "GET", f"{base}/bookings/{booking['id']}/payments")
        return [(r["amount_minor"], r["status"]) for r in found["refunds"]]

    assert await until(refunds, [(5_000, "accepted")]) == [(5_000, "accepted")]
    assert (await money(owner_engine, checkout["order_id"]))[0] == [("capture", 15_001)]
    async with httpx.AsyncClient() as sim:
        done = await sim.post(f"{simulator_url}/__sim/orders/{checkout['order_id']}/refunds/settle")
        assert done.status_code == 200, done.text
    assert await until(refunds, [(5_000, "settled")]) == [(5_000, "settled")]
    assert (await money(owner_engine, checkout["order_id"]))[0] == [("capture", 15_001), ("refund", 5_000)]


async def test_reconciliation_heals_a_dropped_webhook_and_a_second_run_adds_nothing(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
    database_url: str,
    kashier_env: dict[str, str],
) -> None:
    base, owner, _ = consultancy
    customer, booking = await held_booking(http, consultancy)
    checkout = await start_checkout(http, base, customer, booking)
    await set_faults(simulator_url, checkout["order_id"], drop=True)
    await pay(simulator_url, checkout, **CARD)
    await asyncio.sleep(1)
    assert await booking_status(http, base, customer, booking["id"]) == "held"  # only the gateway knows

    day = datetime.now(CAIRO).date().isoformat()
    first = await asyncio.to_thread(reconcile_cli, database_url, kashier_env, day)
    assert (
        await until(lambda: booking_status(http, base, customer, booking["id"]), "confirmed") == "confirmed"
    )
    ledger, deliveries, outcomes = await money(owner_engine, checkout["order_id"])
    assert (ledger, deliveries, outcomes) == ([("capture", 15_001)], 1, ["confirmed"])
    second = await asyncio.to_thread(reconcile_cli, database_url, kashier_env, day)
    # (The forged test's order is healed too: the gateway captured it, we never believed it.)
    business = base.rsplit("/", 1)[1]
    assert "0 new mismatches" not in _line_of(first, business)
    assert "0 new mismatches, 0 healed" in _line_of(second, business)

    # (Today's runs only: the tests' workers never run the nightly job, see race_support.)
    runs = [
        r for r in (await ok(http, owner, "GET", f"{base}/reconciliation-runs"))["items"] if r["day"] == day
    ]
    assert len(runs) == 1, runs  # the second run of the day updated the first
    path = f"{base}/reconciliation-runs/{runs[0]['id']}/mismatches"
    found = await ok(http, owner, "GET", path)
    ours = [(m["kind"], m["healed"]) for m in found["items"] if m["order_id"] == checkout["order_id"]]
    assert ours == [("captured_not_recorded", True)]
    as_csv = await http.get(path, headers={**owner.headers, "Accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert f"{checkout['order_id']},captured_not_recorded," in as_csv.text


async def test_a_retried_owner_refund_with_its_idempotency_key_refunds_once(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
) -> None:
    base, owner, _ = consultancy
    _, booking, checkout = await paid_booking(http, consultancy, simulator_url)
    path = f"{base}/bookings/{booking['id']}/refunds"
    headers = {**owner.headers, "Idempotency-Key": f"refund-{uuid.uuid4()}"}
    first = await http.post(path, headers=headers, json={"amount_minor": 3_000})
    again = await http.post(path, headers=headers, json={"amount_minor": 3_000})
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()
    other = await http.post(path, headers=headers, json={"amount_minor": 3_001})
    assert (other.status_code, other.json()["errors"][0]["rule"]) == (422, "key_reused")

    async def ledger() -> list[tuple[str, int]]:
        return (await money(owner_engine, checkout["order_id"]))[0]

    expected = [("capture", 15_001), ("refund", 3_000)]
    assert await until(ledger, expected) == expected
    await asyncio.sleep(1)  # room for a second refund to show
    assert await ledger() == expected
    found = await ok(http, owner, "GET", f"{base}/bookings/{booking['id']}/payments")
    assert [r["id"] for r in found["refunds"]] == [first.json()["id"]]


async def test_a_lookup_timeout_is_recorded_the_walk_goes_on_and_a_rerun_retries_it(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    owner_engine: AsyncEngine,
    shared_db: Database,
) -> None:
    base, owner, _ = consultancy
    slow_customer, slow_booking = await held_booking(http, consultancy)
    slow = await start_checkout(http, base, slow_customer, slow_booking)
    dropped_customer, dropped_booking = await held_booking(http, consultancy)
    dropped = await start_checkout(http, base, dropped_customer, dropped_booking)
    await set_faults(simulator_url, dropped["order_id"], drop=True)
    await pay(simulator_url, dropped, **CARD)
    await pay(simulator_url, slow, **CARD)
    await until(lambda: booking_status(http, base, slow_customer, slow_booking["id"]), "confirmed")
    await set_faults(simulator_url, slow["order_id"], lookup_delay_seconds=3)  # the client waits 1 s

    first = await reconcile_here(shared_db, simulator_url, base)
    assert first.lookups_failed == 1
    # The walk went on past the timeout: the dropped webhook was healed in the same run.
    assert (
        await until(lambda: booking_status(http, base, dropped_customer, dropped_booking["id"]), "confirmed")
        == "confirmed"
    )
    path = f"{base}/reconciliation-runs/{first.run_id}/mismatches"

    async def kinds(order_id: str) -> list[tuple[str, bool]]:
        found = await ok(http, owner, "GET", path)
        return [(m["kind"], m["resolved_at"] is None) for m in found["items"] if m["order_id"] == order_id]

    assert await kinds(slow["order_id"]) == [("lookup_failed", True)]
    assert await kinds(dropped["order_id"]) == [("captured_not_recorded", True)]

    await set_faults(simulator_url, slow["order_id"])  # Kashier answers again
    again = await reconcile_here(shared_db, simulator_url, base)
    assert (again.run_id, again.lookups_failed, again.new_mismatches) == (first.run_id, 0, 0)
    # Both orders were looked up and now agree: what the first run found is resolved.
    assert await kinds(slow["order_id"]) == [("lookup_failed", False)]
    assert await kinds(dropped["order_id"]) == [("captured_not_recorded", False)]
    run = next(
        r
        for r in (await ok(http, owner, "GET", f"{base}/reconciliation-runs"))["items"]
        if r["id"] == str(first.run_id)
    )
    as_csv = await http.get(path, headers={**owner.headers, "Accept": "text/csv"})
    assert f"{slow['order_id']},lookup_failed," in as_csv.text
    assert run["mismatches"] == await _open_mismatches(owner_engine, first.run_id)


async def _open_mismatches(engine: AsyncEngine, run_id: object) -> int:
    async with engine.connect() as conn:
        found = await conn.scalar(
            text("SELECT count(*) FROM reconciliation_mismatch WHERE run_id = :r AND resolved_at IS NULL"),
            {"r": run_id},
        )
    return int(found or 0)


def _line_of(progress: str, business_id: str) -> str:
    """The CLI's summary line for one business (the database holds other tests' too)."""
    [line] = [line for line in progress.splitlines() if f"business {business_id}:" in line]
    return line


async def _return_to_the_clients_page(
    http: httpx.AsyncClient, consultancy: tuple[str, Account, str], **pages: str
) -> tuple[Account, dict[str, Any], dict[str, Any]]:
    base, owner = consultancy[0], consultancy[1]
    await ok(http, owner, "PATCH", base, {"return_origins": ["https://book.example.com"]})
    customer, booking = await held_booking(http, consultancy)
    body = {"method": "card", **pages}
    checkout = await ok(http, customer, "POST", f"{base}/bookings/{booking['id']}/payments", body)
    return customer, booking, checkout


async def _came_back(redirect_url: str) -> httpx.Response:
    async with httpx.AsyncClient(follow_redirects=False) as browser:
        return await browser.get(redirect_url)


async def test_the_browser_return_sends_a_paid_customer_to_the_stored_page(
    http: httpx.AsyncClient, consultancy: tuple[str, Account, str], simulator_url: str
) -> None:
    base = consultancy[0]
    customer, booking, checkout = await _return_to_the_clients_page(
        http,
        consultancy,
        return_url="https://book.example.com/done?ref=7",
        cancel_url="https://book.example.com/cancel",
    )
    paid = await pay(simulator_url, checkout, **CARD)
    assert paid["status"] == "SUCCESS"
    status = await until(lambda: booking_status(http, base, customer, booking["id"]), "confirmed")
    assert status == "confirmed"
    back = await _came_back(paid["redirectUrl"])
    assert back.status_code == 303, back.text
    where = urlsplit(back.headers["location"])
    assert (where.scheme, where.netloc, where.path) == ("https", "book.example.com", "/done")
    assert parse_qsl(where.query) == [("ref", "7"), ("booking_id", booking["id"]), ("outcome", "paid")]
    # Nothing in the query picks where the browser goes: only the page stored at checkout.
    steered = await _came_back(paid["redirectUrl"] + "&next=https://evil.example")
    assert urlsplit(steered.headers.get("location", "")).netloc in ("", "book.example.com")


async def test_the_browser_return_sends_a_declined_card_to_the_cancel_page(
    http: httpx.AsyncClient, consultancy: tuple[str, Account, str], simulator_url: str
) -> None:
    _, booking, checkout = await _return_to_the_clients_page(
        http,
        consultancy,
        return_url="https://book.example.com/done",
        cancel_url="https://book.example.com/cancel",
    )
    declined = await pay(simulator_url, checkout, **{**CARD, "expiry": "02/39"})
    assert declined["status"] == "FAILURE"
    back = await _came_back(declined["redirectUrl"])
    assert back.status_code == 303, back.text
    assert back.headers["location"] == (
        f"https://book.example.com/cancel?booking_id={booking['id']}&outcome=failed"
    )


async def test_without_a_return_page_the_browser_return_answers_json(
    http: httpx.AsyncClient, consultancy: tuple[str, Account, str], simulator_url: str
) -> None:
    _, booking, checkout = await _return_to_the_clients_page(http, consultancy)
    declined = await pay(simulator_url, checkout, **{**CARD, "expiry": "02/39"})
    back = await _came_back(declined["redirectUrl"])
    assert back.status_code == 200, back.text
    assert (back.json()["booking_id"], back.json()["booking_status"]) == (booking["id"], "held")
