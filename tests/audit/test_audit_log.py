"""Owners read who did what and when: status changes, money at the desk, refunds, catalog,
hours, rules, staff and customer-record changes, newest first, per booking too; nobody can
change the log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from booking_support import book, customer, open_bookable_shop
from support import FakeClock, add_staff, sign_up

THURSDAY_10 = "2026-11-26T10:00:00+02:00"


async def _log(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], **query: Any
) -> list[dict[str, Any]]:
    answer = await client.get(f"{url}/audit-events", headers=headers, params=query)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


async def test_owners_read_who_did_what_newest_first_and_per_booking(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    owner = shop.owner.headers
    barber = await sign_up(client, "barber")
    await add_staff(client, shop.owner, shop.business_id, barber)
    repriced = await client.patch(
        f"{shop.url}/services/{shop.service_id}", headers=owner, json={"price_minor": 17_500}
    )
    assert repriced.status_code == 200, repriced.text
    clock.advance(timedelta(seconds=1))  # (each change at an instant of its own)
    rules = await client.patch(shop.url, headers=owner, json={"rule_overrides": {"min_notice_minutes": 30}})
    assert rules.status_code == 200, rules.text
    clock.advance(timedelta(seconds=1))  # (each change at an instant of its own)
    mona = await customer(client)
    booking = (await book(client, shop, mona, THURSDAY_10)).json()
    clock.advance(timedelta(seconds=1))  # (each change at an instant of its own)
    paid = await client.post(
        f"{shop.url}/bookings/{booking['id']}/desk-payments",
        headers=barber.headers,
        json={"amount_minor": 5_000, "method": "cash"},
    )
    assert paid.status_code == 201, paid.text
    clock.advance(timedelta(seconds=1))  # (each change at an instant of its own)
    cancelled = await client.post(f"{shop.url}/bookings/{booking['id']}/cancel", headers=mona.headers)
    assert cancelled.status_code == 200, cancelled.text
    clock.advance(timedelta(seconds=1))  # (each change at an instant of its own)
    record = (
        await client.post(f"{shop.url}/customers", headers=owner, json={"name": "Hany", "notes": "x"})
    ).json()

    entries = await _log(client, shop.url, owner, limit=200)
    actions = [entry["action"] for entry in entries]
    assert actions[:5] == [
        "customer.created",
        "booking.cancel",
        "desk.payment",
        "booking.create",
        "business.updated",
    ]
    for expected in (
        "service.updated",
        "member.joined",
        "invitation.created",
        "hours.replaced",
        "staff.created",
    ):
        assert expected in actions, expected
    by_action = {entry["action"]: entry for entry in entries}
    assert by_action["service.updated"]["details"] == {"price_minor": 17_500}
    assert by_action["business.updated"]["details"] == {"rule_overrides": {"min_notice_minutes": 30}}
    assert by_action["booking.cancel"]["actor_id"] == str(mona.user_id)
    assert by_action["booking.cancel"]["details"] == {"from": "confirmed", "to": "cancelled"}
    assert by_action["desk.payment"]["actor_id"] == str(barber.user_id)
    assert by_action["desk.payment"]["details"] == {
        "amount_minor": 5_000,
        "currency": "EGP",
        "method": "cash",
    }
    # What staff write about a person is not copied into the log: the fields' names only.
    assert by_action["customer.created"]["subject_id"] == record["id"]
    assert by_action["customer.created"]["details"] == {
        "fields": ["email", "marketing_consent", "name", "notes", "phone", "tags"]
    }

    story = await _log(client, shop.url, owner, booking_id=booking["id"])
    assert [entry["action"] for entry in story] == ["booking.cancel", "desk.payment", "booking.create"]

    # Pages walk the whole log once, in order.
    walked: list[dict[str, Any]] = []
    cursor = None
    while True:
        query: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(f"{shop.url}/audit-events", headers=owner, params=query)).json()
        walked += page["items"]
        if (cursor := page["next_cursor"]) is None:
            break
    assert walked == entries

    refused = await client.get(f"{shop.url}/audit-events", headers=barber.headers)
    assert (refused.status_code, refused.json()["code"]) == (403, "insufficient_role")
    bad = await client.get(f"{shop.url}/audit-events", headers=owner, params={"cursor": "nonsense"})
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "query.cursor")


async def test_nobody_changes_the_log(client: httpx.AsyncClient, owner_engine: AsyncEngine) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    async with owner_engine.connect() as conn:
        await conn.execute(text("SET ROLE booklnk_app"))
        await conn.execute(
            text("SELECT set_config('app.tenant_id', :id, false)"), {"id": str(shop.business_id)}
        )
        for statement in ("UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
            with pytest.raises(DBAPIError, match="permission denied"):
                async with conn.begin_nested():
                    await conn.execute(text(statement))
