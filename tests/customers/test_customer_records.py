"""A business's customer records: staff add walk-ins, find anyone who booked (Arabic names
and numbers however typed), read their history here, and book them by their record; a
walk-in's record becomes the account's once that person proves the number and books."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booking_support import BookableShop, book, customer, open_bookable_shop
from support import Account, FakeClock, add_staff, log_in, prove_phone, sign_up

THURSDAY_10 = "2026-11-26T10:00:00+02:00"
THURSDAY_11 = "2026-11-26T11:00:00+02:00"
FRIDAY_10 = "2026-11-27T10:00:00+02:00"


async def _add(client: httpx.AsyncClient, shop: BookableShop, who: Account, **body: Any) -> httpx.Response:
    return await client.post(f"{shop.url}/customers", headers=who.headers, json=body)


async def _find(client: httpx.AsyncClient, shop: BookableShop, **query: str) -> list[dict[str, Any]]:
    found = await client.get(f"{shop.url}/customers", headers=shop.owner.headers, params=query)
    assert found.status_code == 200, found.text
    return list(found.json()["items"])


async def test_staff_add_a_walk_in_and_find_it_however_the_name_and_number_are_typed(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    barber = await sign_up(client, "barber")
    await add_staff(client, shop.owner, shop.business_id, barber)
    added = await _add(
        client,
        shop,
        barber,
        name="أحمد مصطفى",
        phone="0100 123 4567",
        tags=["vip", "vip"],
        notes="Beard only",
    )
    assert added.status_code == 201, added.text
    record = added.json()
    assert (record["phone"], record["tags"], record["account_id"], record["version"]) == (
        "+201001234567",
        ["vip"],
        None,
        1,
    )
    assert added.headers["ETag"] == '"1"'
    assert added.headers["Location"].endswith(f"/customers/{record['id']}")
    assert record["history"]["visits"] == 0

    for query in ("احمد", "مصطفي", "٠١٠٠١٢٣٤٥٦٧", "+20 100 123", "01001234567"):
        assert [found["id"] for found in await _find(client, shop, q=query)] == [record["id"]], query
    assert await _find(client, shop, q="محمود") == []
    assert [found["id"] for found in await _find(client, shop, tag="vip")] == [record["id"]]
    assert await _find(client, shop, tag="regular") == []

    again = await _add(client, shop, shop.owner, name="Ahmed", phone="+201001234567")
    assert (again.status_code, again.json()["code"], again.json()["customer_id"]) == (
        409,
        "customer_exists",
        record["id"],
    )


async def test_accounts_that_booked_are_customers_and_found_by_their_account_name(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    renamed = await client.patch("/v1/me", headers=mona.headers, json={"full_name": "منى إبراهيم"})
    assert renamed.status_code == 200, renamed.text
    assert (await book(client, shop, mona, THURSDAY_10)).status_code == 201
    assert (await book(client, shop, mona, FRIDAY_10)).status_code == 201

    (record,) = await _find(client, shop, q="ابراهيم")
    assert (record["account_id"], record["name"], record["history"]["upcoming"]) == (
        str(mona.user_id),
        "منى إبراهيم",
        2,
    )
    # One record for the account, however many bookings.
    assert len(await _find(client, shop)) == 1


async def test_customers_and_other_businesses_see_no_records(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    other = await open_bookable_shop(client, barbers=1)
    record = (await _add(client, shop, shop.owner, name="Hany")).json()
    mona = await customer(client)
    await book(client, shop, mona, THURSDAY_10)
    refused = await client.get(f"{shop.url}/customers", headers=mona.headers)
    assert (refused.status_code, refused.json()["code"]) == (403, "insufficient_role")
    assert (await _add(client, shop, mona, name="Me")).status_code == 403
    elsewhere = await client.get(f"{other.url}/customers/{record['id']}", headers=other.owner.headers)
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (404, "customer_not_found")
    booked_elsewhere = await client.post(
        f"{other.url}/bookings",
        headers=other.owner.headers,
        json={"service_id": other.service_id, "starts_at": THURSDAY_10, "customer_record_id": record["id"]},
    )
    assert (booked_elsewhere.status_code, booked_elsewhere.json()["code"]) == (404, "customer_not_found")
    by_customer = await book(client, shop, mona, THURSDAY_11, customer_record_id=record["id"])
    assert (by_customer.status_code, by_customer.json()["code"]) == (403, "insufficient_role")
    both = await client.post(
        f"{shop.url}/bookings",
        headers=shop.owner.headers,
        json={
            "service_id": shop.service_id,
            "starts_at": THURSDAY_11,
            "customer_record_id": record["id"],
            "guest_name": "Hany",
        },
    )
    assert (both.status_code, both.json()["errors"][0]["rule"]) == (422, "one_of")


async def test_a_walk_ins_record_becomes_the_account_that_proves_its_number_and_books(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_bookable_shop(client, barbers=2)
    record = (await _add(client, shop, shop.owner, name="Hany", phone="01001234567")).json()
    walk_in = await client.post(
        f"{shop.url}/bookings",
        headers=shop.owner.headers,
        json={"service_id": shop.service_id, "starts_at": THURSDAY_10, "customer_record_id": record["id"]},
    )
    assert walk_in.status_code == 201, walk_in.text
    assert (walk_in.json()["customer_id"], walk_in.json()["guest_name"]) == (None, "Hany")
    assert walk_in.json()["customer_record_id"] == record["id"]

    hany = await customer(client)
    await prove_phone(client, hany, "+201001234567")
    assert (await book(client, shop, hany, FRIDAY_10)).status_code == 201

    (linked,) = await _find(client, shop)
    assert (linked["id"], linked["account_id"], linked["name"]) == (record["id"], str(hany.user_id), "Hany")
    assert linked["history"]["upcoming"] == 2  # the walk-in booking and his own
    history = await client.get(
        f"{shop.url}/bookings", headers=shop.owner.headers, params={"customer_record_id": record["id"]}
    )
    assert len(history.json()["items"]) == 2
    walk_in_listed = next(item for item in history.json()["items"] if item["guest_name"] == "Hany")
    assert walk_in_listed["customer"]["phone"] == "+201001234567"


async def test_staff_booking_a_record_whose_number_an_account_proved_books_the_account(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    record = (await _add(client, shop, shop.owner, name="Sara", phone="+201112345678")).json()
    sara = await customer(client)
    await prove_phone(client, sara, "+201112345678")
    booked = await client.post(
        f"{shop.url}/bookings",
        headers=shop.owner.headers,
        json={"service_id": shop.service_id, "starts_at": THURSDAY_10, "customer_record_id": record["id"]},
    )
    assert booked.status_code == 201, booked.text
    assert (booked.json()["customer_id"], booked.json()["guest_name"]) == (str(sara.user_id), None)
    own = await client.get("/v1/me/bookings", headers=sara.headers)
    assert [item["id"] for item in own.json()["items"]] == [booked.json()["id"]]
    read = await client.get(f"{shop.url}/customers/{record['id']}", headers=shop.owner.headers)
    assert read.json()["account_id"] == str(sara.user_id)


async def test_history_counts_visits_no_shows_late_cancellations_and_money(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    overrides = {"rule_overrides": {"late_cancellation_refund_percent": 0}}
    assert (await client.patch(shop.url, headers=shop.owner.headers, json=overrides)).status_code == 200
    mona = await customer(client)
    visit = (await book(client, shop, mona, "2026-11-24T12:00:00+02:00")).json()
    no_show = (await book(client, shop, mona, "2026-11-24T13:00:00+02:00")).json()
    late = (await book(client, shop, mona, "2026-11-24T14:00:00+02:00")).json()
    early = (await book(client, shop, mona, FRIDAY_10)).json()
    base = f"{shop.url}/bookings"

    async def act(booking: dict[str, Any], action: str, who: Account) -> None:
        # (Signed in again: the clock moves by hours, past an access token's life.)
        fresh = await log_in(client, who.email, who.user_id)
        done = await client.post(f"{base}/{booking['id']}/{action}", headers=fresh.headers)
        assert done.status_code == 200, done.text

    clock.current = clock.current.replace(hour=10, minute=0)  # 12:00 Cairo
    await act(visit, "check-in", shop.owner)
    paid = await client.post(
        f"{base}/{visit['id']}/desk-payments",
        headers=(await log_in(client, shop.owner.email, shop.owner.user_id)).headers,
        json={"amount_minor": 15_000, "method": "cash"},
    )
    assert paid.status_code == 201, paid.text
    await act(visit, "complete", shop.owner)
    clock.current = clock.current.replace(hour=13, minute=40)  # 15:40: she never came at 15:00
    await act(no_show, "no-show", shop.owner)
    clock.current = clock.current.replace(hour=11, minute=30)  # 13:30, within the hour before 14:00
    await act(late, "cancel", mona)
    await act(early, "cancel", mona)  # days ahead: free, not late

    owner = await log_in(client, shop.owner.email, shop.owner.user_id)
    found = await client.get(f"{shop.url}/customers", headers=owner.headers)
    (record,) = found.json()["items"]
    assert record["history"] == {
        "visits": 1,
        "upcoming": 0,
        "no_shows": 1,
        "late_cancellations": 1,
        "last_visit_at": "2026-11-24T10:00:00Z",
        "total_paid_minor": 15_000,
        "currency": "EGP",
    }


async def test_edits_compare_versions_and_name_the_field_they_refuse(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    record = (await _add(client, shop, shop.owner, name="Hany")).json()
    url = f"{shop.url}/customers/{record['id']}"
    edited = await client.patch(
        url,
        headers={**shop.owner.headers, "If-Match": '"1"'},
        json={"notes": "Prefers mornings", "tags": ["vip"]},
    )
    assert (edited.status_code, edited.json()["version"], edited.headers["ETag"]) == (200, 2, '"2"')
    stale = await client.patch(
        url, headers={**shop.owner.headers, "If-Match": '"1"'}, json={"marketing_consent": True}
    )
    assert (stale.status_code, stale.json()["code"]) == (412, "version_mismatch")
    for body, field, rule in (
        ({"notes": None}, "body.notes", "not_nullable"),
        ({"name": None}, "body.name", "required"),
        ({"tags": ["x" * 41]}, "body.tags.0", "string_too_long"),
        ({"phone": "0223456789"}, "body.phone", "value_error"),
        ({"marketing_consent": "yes"}, "body.marketing_consent", "bool_type"),
    ):
        refused = await client.patch(url, headers=shop.owner.headers, json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert (refused.json()["errors"][0]["field"], refused.json()["errors"][0]["rule"]) == (field, rule)
    arabic = await client.patch(
        url, headers={**shop.owner.headers, "Accept-Language": "ar"}, json={"notes": None}
    )
    assert arabic.json()["title"] != "Validation failed"
    too_long = await client.get(f"{shop.url}/customers", headers=shop.owner.headers, params={"q": "x" * 101})
    assert (too_long.status_code, too_long.json()["errors"][0]["field"]) == (422, "query.q")


async def test_an_accounts_first_bookings_at_once_make_one_record(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    shop = await open_bookable_shop(client, barbers=2)
    mona = await customer(client)
    starts = [THURSDAY_10, THURSDAY_11, "2026-11-26T12:00:00+02:00", FRIDAY_10]
    answers = await asyncio.gather(*(book(client, shop, mona, start) for start in starts))
    assert [answer.status_code for answer in answers] == [201] * 4
    async with owner_engine.connect() as conn:
        count = await conn.execute(
            text("SELECT count(*) FROM customer_record WHERE business_id = :b AND user_id = :u"),
            {"b": shop.business_id, "u": mona.user_id},
        )
        assert count.scalar_one() == 1


async def test_an_unknown_record_is_not_found(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    missing = await client.get(f"{shop.url}/customers/{uuid.uuid4()}", headers=shop.owner.headers)
    assert (missing.status_code, missing.json()["code"]) == (404, "customer_not_found")
