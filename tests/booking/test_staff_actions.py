"""Staff actions follow the clock: no check-in long before the start, no no-show before
the start plus its grace, no completion before the start; a no-show keeps its time
blocked; a check-in or a no-show can be undone for a while, and the audit says who did
what. (The clock stands at 2026-11-24 11:00 in Cairo.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booking_support import BookableShop, book, customer, open_bookable_shop
from support import Account, FakeClock, add_staff, log_in, sign_up

START = "2026-11-26T10:00:00+02:00"
START_UTC = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


async def _act(
    client: httpx.AsyncClient, shop: BookableShop, who: Account, booking_id: str, path: str
) -> httpx.Response:
    """As `who`, signed in afresh: the tests move the clock by days, past any token's life."""
    fresh = await log_in(client, who.email, who.user_id)
    return await client.post(f"{shop.url}/bookings/{booking_id}/{path}", headers=fresh.headers)


async def _booked(client: httpx.AsyncClient, shop: BookableShop) -> str:
    created = await book(client, shop, await customer(client), START, staff_id=shop.staff_ids[0])
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def test_a_no_show_two_days_early_is_refused_naming_the_rule(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    booking_id = await _booked(client, shop)
    early = await _act(client, shop, shop.owner, booking_id, "no-show")
    assert early.status_code == 409, early.text
    body = early.json()
    assert (body["code"], body["rule"]) == ("too_early", "no_show_grace_minutes")
    assert body["earliest"] == (START_UTC + timedelta(minutes=15)).isoformat()
    clock.current = START_UTC + timedelta(minutes=14)
    assert (await _act(client, shop, shop.owner, booking_id, "no-show")).status_code == 409
    clock.current = START_UTC + timedelta(minutes=15)
    marked = await _act(client, shop, shop.owner, booking_id, "no-show")
    assert (marked.status_code, marked.json()["status"]) == (200, "no_show")


async def test_a_no_show_keeps_its_time_and_can_be_undone_by_staff_within_the_window(
    client: httpx.AsyncClient, clock: FakeClock, owner_engine: AsyncEngine
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    barber = await sign_up(client, "barber")
    await add_staff(client, shop.owner, shop.business_id, barber)
    booking_id = await _booked(client, shop)
    clock.current = START_UTC + timedelta(minutes=20)
    assert (await _act(client, shop, barber, booking_id, "no-show")).status_code == 200
    # The chair was reserved for that customer: nobody else takes the barber then.
    clock.current = START_UTC - timedelta(hours=4)
    late_comer = await book(client, shop, await customer(client), START, staff_id=shop.staff_ids[0])
    assert (late_comer.status_code, late_comer.json()["code"]) == (409, "slot_unavailable")
    clock.current = START_UTC + timedelta(hours=3)
    undone = await _act(client, shop, barber, booking_id, "undo-no-show")
    assert (undone.status_code, undone.json()["status"]) == (200, "confirmed")
    again = await _act(client, shop, barber, booking_id, "undo-no-show")
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")
    async with owner_engine.connect() as conn:
        audit = (
            await conn.execute(
                text(
                    "SELECT from_status, to_status, action, actor_id FROM booking_status_change"
                    " WHERE booking_id = :id ORDER BY id"
                ),
                {"id": booking_id},
            )
        ).all()
    assert [tuple(row) for row in audit] == [
        (None, "confirmed", "create", audit[0].actor_id),
        ("confirmed", "no_show", "no_show", barber.user_id),
        ("no_show", "confirmed", "undo_no_show", barber.user_id),
    ]


async def test_an_undo_after_its_window_or_of_an_older_change_is_refused(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    booking_id = await _booked(client, shop)
    clock.current = START_UTC - timedelta(minutes=30)
    assert (await _act(client, shop, shop.owner, booking_id, "check-in")).status_code == 200
    clock.current = START_UTC + timedelta(hours=24, minutes=31)
    late = await _act(client, shop, shop.owner, booking_id, "undo-check-in")
    assert (late.status_code, late.json()["code"], late.json()["rule"]) == (
        409,
        "too_late",
        "undo_window_minutes",
    )
    clock.current = START_UTC + timedelta(minutes=50)
    assert (await _act(client, shop, shop.owner, booking_id, "complete")).status_code == 200
    # The check-in is no longer the latest change: nothing to undo.
    refused = await _act(client, shop, shop.owner, booking_id, "undo-check-in")
    assert (refused.status_code, refused.json()["code"]) == (409, "invalid_transition")


async def test_check_in_opens_before_the_start_and_closes_at_the_end(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    first = await _booked(client, shop)
    early = await _act(client, shop, shop.owner, first, "check-in")
    assert (early.status_code, early.json()["code"], early.json()["rule"]) == (
        409,
        "too_early",
        "check_in_opens_minutes",
    )
    assert early.json()["earliest"] == (START_UTC - timedelta(minutes=30)).isoformat()
    clock.current = START_UTC - timedelta(minutes=30)
    checked = await _act(client, shop, shop.owner, first, "check-in")
    assert (checked.status_code, checked.json()["status"]) == (200, "checked_in")
    # Completing is for after the start.
    too_soon = await _act(client, shop, shop.owner, first, "complete")
    assert (too_soon.status_code, too_soon.json()["rule"]) == (409, "complete_after_start")
    clock.current = START_UTC + timedelta(minutes=5)
    undone = await _act(client, shop, shop.owner, first, "undo-check-in")
    assert (undone.status_code, undone.json()["status"]) == (200, "confirmed")
    clock.current = START_UTC + timedelta(minutes=31)  # the 30-minute cut has ended
    closed = await _act(client, shop, shop.owner, first, "check-in")
    assert (closed.status_code, closed.json()["code"], closed.json()["rule"]) == (
        409,
        "too_late",
        "check_in_closes_at_end",
    )


async def test_customers_take_no_staff_action(client: httpx.AsyncClient, clock: FakeClock) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    created = await book(client, shop, mona, START, staff_id=shop.staff_ids[0])
    clock.current = START_UTC + timedelta(minutes=20)
    for path in ("check-in", "no-show", "undo-no-show", "complete"):
        refused = await _act(client, shop, mona, created.json()["id"], path)
        assert refused.status_code == 403, path


async def test_a_rule_override_moves_the_clock(client: httpx.AsyncClient, clock: FakeClock) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    changed = await client.patch(
        f"{shop.url}",
        headers=shop.owner.headers,
        json={"rule_overrides": {"no_show_grace_minutes": 0, "check_in_opens_minutes": 120}},
    )
    assert changed.status_code == 200, changed.text
    booking_id = await _booked(client, shop)
    clock.current = START_UTC - timedelta(minutes=90)
    assert (await _act(client, shop, shop.owner, booking_id, "check-in")).status_code == 200
    other = await book(client, shop, await customer(client), "2026-11-26T12:00:00+02:00")
    clock.current = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    marked = await _act(client, shop, shop.owner, other.json()["id"], "no-show")
    assert (marked.status_code, marked.json()["status"]) == (200, "no_show")
