"""Pay links: a customer promoted off a waitlist into a seat held for payment, or whose
hold is half gone, is sent a link (with the deadline) that opens a page and starts checkout
as them, no sign-in; the link is sealed, lapses with the hold, and pays nothing else."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.kernel.sealed import seal, unseal
from class_support import Gym, open_gym, publish, take_seat
from mail_server import Mailbox
from support import Account, FakeClock, JobRunner, sign_up

CHECKOUT_WINDOW = timedelta(minutes=10)
HOLDS = {"checkout_hold_minutes": 10}
LINK = re.compile(r"https?://\S+/v1/pay/[A-Za-z0-9_-]+")


async def _promoted(
    client: httpx.AsyncClient, run_jobs: JobRunner, clock: FakeClock, *, method: str = "card"
) -> tuple[Gym, Account, str]:
    """A full class whose one seat lapses unpaid: the waiter is promoted into a held seat."""
    gym = await open_gym(client, capacity=1, **HOLDS)
    if method != "card":  # the class's own methods: only this one
        only = {"payment_overrides": {"payment_methods": [method]}}
        changed = await client.patch(
            f"{gym.base}/services/{gym.service_id}", headers=gym.owner.headers, json=only
        )
        assert changed.status_code == 200, changed.text
    session_id = (await publish(client, gym))["sessions"][1]["id"]
    first = await sign_up(client, "member")
    assert (await take_seat(client, gym, session_id, first, payment_method=method)).status_code == 201
    waiter = await sign_up(client, "waiter")
    joined = await client.post(
        f"{gym.base}/class-sessions/{session_id}/waitlist",
        headers=waiter.headers,
        json={"payment_method": method},
    )
    assert joined.status_code == 201, joined.text
    clock.advance(CHECKOUT_WINDOW + timedelta(minutes=1))
    await run_jobs()  # the lapse, the promotion, and the promoted customer's message
    line = await client.get(f"{gym.base}/class-sessions/{session_id}/waitlist", headers=gym.owner.headers)
    booking_id = line.json()["items"][0]["booking_id"]
    return gym, waiter, booking_id


def _link(mailbox: Mailbox, who: Account, subject_start: str) -> str:
    (message,) = [m for m in mailbox.messages(to=who.email) if str(m["Subject"]).startswith(subject_start)]
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    found = LINK.search(body.get_content())
    assert found is not None
    return found.group(0)


async def _templates(owner_engine: AsyncEngine, booking_id: str) -> list[str]:
    async with owner_engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT template FROM outbox_message WHERE booking_id = :b ORDER BY seq"), {"b": booking_id}
        )
        return list(rows.scalars())


async def test_a_promoted_customer_gets_a_pay_link_that_starts_their_checkout(
    client: httpx.AsyncClient,
    run_jobs: JobRunner,
    clock: FakeClock,
    mailbox: Mailbox,
    owner_engine: AsyncEngine,
    settings: Any,
) -> None:
    gym, waiter, booking_id = await _promoted(client, run_jobs, clock)
    await run_jobs()  # the warning half-way through the new hold, and the e-mails
    assert await _templates(owner_engine, booking_id) == ["waitlist_promoted", "hold_lapsing"]
    link = _link(mailbox, waiter, "A place is yours")
    assert link == _link(mailbox, waiter, "Pay by")  # one booking, one hold: the same link
    path = link.removeprefix(settings.public_base_url.rstrip("/"))

    page = await client.get(path, headers={"Accept-Language": "ar"})
    assert page.status_code == 200, page.text
    assert '<html lang="ar" dir="rtl">' in page.text
    assert "Spin" in page.text
    assert 'formaction="?method=card"' in page.text

    paying = await client.post(f"{path}?method=card", headers={"Accept-Language": "en"})
    assert paying.status_code == 303, paying.text
    assert paying.headers["location"].startswith(settings.kashier_hpp_url)
    payments = await client.get(f"{gym.base}/bookings/{booking_id}/payments", headers=waiter.headers)
    assert [(a["method"], a["status"]) for a in payments.json()["attempts"]] == [("card", "started")]


async def test_a_links_page_offers_the_methods_the_class_itself_takes(
    client: httpx.AsyncClient, run_jobs: JobRunner, clock: FakeClock, mailbox: Mailbox, settings: Any
) -> None:
    _gym, waiter, _booking_id = await _promoted(client, run_jobs, clock, method="wallet")
    path = _link(mailbox, waiter, "A place is yours").removeprefix(settings.public_base_url.rstrip("/"))
    page = await client.get(path, headers={"Accept-Language": "en"})
    assert page.status_code == 200, page.text
    assert re.findall(r'formaction="\?method=([a-z]+)"', page.text) == ["wallet"]


async def test_a_link_pays_its_own_booking_only_and_lapses_with_the_hold(
    client: httpx.AsyncClient,
    run_jobs: JobRunner,
    clock: FakeClock,
    mailbox: Mailbox,
    settings: Any,
) -> None:
    _, waiter, _ = await _promoted(client, run_jobs, clock)
    path = _link(mailbox, waiter, "A place is yours").removeprefix(settings.public_base_url.rstrip("/"))
    token = path.rsplit("/", 1)[1]
    # A character in the middle: the last one of base64 may carry unused bits, and
    # changing only those (A and B can be such a pair) leaves the same bytes.
    middle = len(token) // 2
    altered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    forged = await client.get(path.replace(token, altered))
    assert (forged.status_code, forged.json()["code"]) == (404, "pay_link_not_found")
    assert (await client.get("/v1/pay/" + "x" * 40)).json()["code"] == "pay_link_not_found"

    clock.advance(CHECKOUT_WINDOW + timedelta(seconds=1))
    lapsed = await client.post(f"{path}?method=card")
    assert (lapsed.status_code, lapsed.json()["code"]) == (410, "pay_link_expired")
    assert "application/problem+json" in lapsed.headers["content-type"]


async def test_a_link_to_a_booking_no_longer_held_takes_no_payment(
    client: httpx.AsyncClient, run_jobs: JobRunner, clock: FakeClock, mailbox: Mailbox, settings: Any
) -> None:
    gym, waiter, booking_id = await _promoted(client, run_jobs, clock)
    path = _link(mailbox, waiter, "A place is yours").removeprefix(settings.public_base_url.rstrip("/"))
    cards_only = {"rule_overrides": {"payment_methods": ["card"]}}
    assert (await client.patch(gym.base, headers=gym.owner.headers, json=cards_only)).status_code == 200
    fawry = await client.post(f"{path}?method=fawry")
    assert (fawry.status_code, fawry.json()["errors"][0]["field"]) == (422, "query.method")
    cancelled = await client.post(f"{gym.base}/bookings/{booking_id}/cancel", headers=waiter.headers)
    assert cancelled.status_code == 200, cancelled.text
    refused = await client.post(f"{path}?method=card")
    assert (refused.status_code, refused.json()["code"]) == (409, "booking_not_payable")


async def test_a_hold_paid_before_half_time_is_not_warned_about(
    client: httpx.AsyncClient, run_jobs: JobRunner, clock: FakeClock, owner_engine: AsyncEngine
) -> None:
    gym = await open_gym(client, capacity=2, **HOLDS)
    session_id = (await publish(client, gym))["sessions"][1]["id"]
    member = await sign_up(client, "member")
    seat = await take_seat(client, gym, session_id, member, payment_method="card")
    booking_id = seat.json()["id"]
    # Staff take the money at the desk: the booking stands before the warning's time.
    paid = await client.post(
        f"{gym.base}/bookings/{booking_id}/desk-payments",
        headers=gym.owner.headers,
        json={"amount_minor": 20_000, "method": "cash"},
    )
    assert paid.status_code in (200, 201), paid.text
    await run_jobs()
    assert "hold_lapsing" not in await _templates(owner_engine, booking_id)


@given(st.binary(max_size=64), st.integers(min_value=0, max_value=200))
def test_a_sealed_token_opens_only_unchanged_and_with_its_key(payload: bytes, flip: int) -> None:
    key = b"k" * 32
    token = seal(key, payload)
    assert unseal(key, token) == (payload or None)
    assert unseal(b"other" * 8, token) is None
    position = flip % len(token)
    changed = token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1 :]
    found = unseal(key, changed)
    assert found is None or found == payload  # (a change in base64's spare bits decodes the same)


@pytest.mark.parametrize("token", ["", "%%%", "a" * 600, "AAAA"])
def test_what_is_not_a_token_opens_nothing(token: str) -> None:
    assert unseal(b"k" * 32, token) is None
