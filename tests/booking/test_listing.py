"""Listing bookings: a business's calendar for its staff (filters, keyset pages with no
duplicates or misses, each booking naming its customer), and a customer's own bookings
across businesses."""

from __future__ import annotations

from typing import Any

import httpx

from booking_support import BookableShop, book, customer, open_bookable_shop
from booklnk.db.database import Database
from support import Account, add_staff, prove_phone, sign_up, statements

# Cairo is UTC+2 in November; the clock stands at 2026-11-24 11:00 there.
STARTS = [
    "2026-11-25T10:00:00+02:00",
    "2026-11-25T10:00:00+02:00",  # the same start on the other barber: ties break by id
    "2026-11-25T11:00:00+02:00",
    "2026-11-26T09:00:00+02:00",
    "2026-11-26T09:00:00+02:00",
    "2026-11-27T15:00:00+02:00",
    "2026-11-28T12:00:00+02:00",
]


async def _book_all(
    client: httpx.AsyncClient, shop: BookableShop, who: list[Account]
) -> list[dict[str, Any]]:
    """One booking per start, alternating customers; any free barber takes it."""
    made = []
    for i, starts_at in enumerate(STARTS):
        response = await book(client, shop, who[i % len(who)], starts_at)
        assert response.status_code == 201, response.text
        made.append(response.json())
    return made


async def _list(
    client: httpx.AsyncClient, path: str, who: Account, **params: Any
) -> tuple[list[dict[str, Any]], str | None]:
    response = await client.get(path, headers=who.headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"], response.json()["next_cursor"]


async def _all_pages(
    client: httpx.AsyncClient, path: str, who: Account, **params: Any
) -> list[dict[str, Any]]:
    items, cursor = await _list(client, path, who, **params)
    while cursor is not None:
        page, cursor = await _list(client, path, who, cursor=cursor, **params)
        assert page, "a next_cursor must lead to a non-empty page"
        items += page
    return items


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def _in_order(bookings: list[dict[str, Any]]) -> list[str]:
    """The API's order, computed independently: by start instant, then by id."""
    return _ids(sorted(bookings, key=lambda b: (b["starts_at"], b["id"])))


async def test_pages_walk_every_booking_once_in_start_then_id_order(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=2)
    made = await _book_all(client, shop, [await customer(client), await customer(client)])
    expected = _in_order(made)
    for limit in (1, 2, 3, 7, 50):
        walked = _ids(await _all_pages(client, f"{shop.url}/bookings", shop.owner, limit=limit))
        assert walked == expected, limit
    last_page, cursor = await _list(client, f"{shop.url}/bookings", shop.owner, limit=7)
    assert (len(last_page), cursor) == (7, None)


async def test_filters_by_window_staff_customer_and_status(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=2)
    mona, omar = await customer(client), await customer(client)
    made = await _book_all(client, shop, [mona, omar])
    cancelled = made[2]
    response = await client.post(f"{shop.url}/bookings/{cancelled['id']}/cancel", headers=shop.owner.headers)
    assert response.status_code == 200, response.text
    path = f"{shop.url}/bookings"

    async def listed(**params: Any) -> list[str]:
        return _ids(await _all_pages(client, path, shop.owner, limit=2, **params))

    # [from, to): a booking starting exactly at `to` is out, one exactly at `from` is in.
    window = await listed(**{"from": "2026-11-25T11:00:00+02:00", "to": "2026-11-27T15:00:00+02:00"})
    assert window == _in_order(made[2:5])
    utc_window = await listed(**{"from": "2026-11-26T07:00:00Z", "to": "2026-11-26T07:00:01Z"})
    assert utc_window == _in_order(made[3:5])  # the same instants, another offset
    staff0 = shop.staff_ids[0]
    assert await listed(staff_id=staff0) == _in_order([b for b in made if b["staff_id"] == staff0])
    assert await listed(customer_id=str(mona.user_id)) == _in_order(made[0::2])
    assert await listed(status="cancelled") == [cancelled["id"]]
    both = await listed(status=["cancelled", "confirmed"])
    assert both == _in_order(made)
    combined = await listed(customer_id=str(mona.user_id), status="confirmed", **{"from": STARTS[3]})
    assert combined == _in_order([made[4], made[6]])


async def test_bad_queries_are_422(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    path = f"{shop.url}/bookings"
    cases: list[tuple[dict[str, str], str]] = [
        ({"from": "2026-11-25T10:00:00"}, "query.from"),  # no offset
        ({"from": "2026-11-26T00:00:00Z", "to": "2026-11-25T00:00:00Z"}, "query.to"),
        ({"status": "lost"}, "query.status.0"),
        ({"cursor": "not-a-cursor"}, "query.cursor"),
        ({"limit": "0"}, "query.limit"),
    ]
    for params, field in cases:
        response = await client.get(path, headers=shop.owner.headers, params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["errors"][0]["field"] == field, response.json()
    mine = await client.get("/v1/me/bookings", headers=shop.owner.headers, params={"to": "tomorrow"})
    assert mine.status_code == 422


async def test_staff_see_every_booking_and_outsiders_are_refused(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=2)
    mona = await customer(client)
    made = await _book_all(client, shop, [mona])
    front_desk = await sign_up(client, "staff")
    await add_staff(client, shop.owner, shop.business_id, front_desk)
    path = f"{shop.url}/bookings"
    assert _ids(await _all_pages(client, path, front_desk)) == _in_order(made)

    other = await open_bookable_shop(client, barbers=1)
    other_staff = await sign_up(client, "staff")
    await add_staff(client, other.owner, other.business_id, other_staff)
    for outsider in (mona, other.owner, other_staff):  # a customer; another business's owner and staff
        response = await client.get(path, headers=outsider.headers)
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "insufficient_role"
    assert (await client.get(path)).status_code == 401


async def test_items_carry_their_resources(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=2, chairs=2)
    mona = await customer(client)
    for starts_at in STARTS[:2]:
        assert (await book(client, shop, mona, starts_at)).status_code == 201
    items, _ = await _list(client, f"{shop.url}/bookings", shop.owner)
    assert sorted(r for item in items for r in item["resource_ids"]) == sorted(shop.chair_ids)
    mine, _ = await _list(client, "/v1/me/bookings", mona)
    assert [item["resource_ids"] for item in mine] == [item["resource_ids"] for item in items]


async def test_my_bookings_span_businesses_and_show_only_mine(client: httpx.AsyncClient) -> None:
    cuts, shaves = await open_bookable_shop(client, barbers=1), await open_bookable_shop(client, barbers=1)
    mona, omar = await customer(client), await customer(client)
    mine = [
        (await book(client, cuts, mona, STARTS[3])).json(),
        (await book(client, shaves, mona, STARTS[0])).json(),
        (await book(client, shaves, mona, STARTS[5])).json(),
    ]
    assert (await book(client, cuts, omar, STARTS[0])).status_code == 201
    assert (await book(client, shaves, omar, STARTS[2])).status_code == 201
    response = await client.post(f"{shaves.url}/bookings/{mine[2]['id']}/cancel", headers=mona.headers)
    assert response.status_code == 200, response.text

    items = await _all_pages(client, "/v1/me/bookings", mona, limit=1)
    assert _ids(items) == _in_order(mine)
    assert {item["customer_id"] for item in items} == {str(mona.user_id)}
    business_of = {item["id"]: item["business_id"] for item in items}
    assert business_of == {
        mine[0]["id"]: str(cuts.business_id),
        mine[1]["id"]: str(shaves.business_id),
        mine[2]["id"]: str(shaves.business_id),
    }
    confirmed = await _all_pages(client, "/v1/me/bookings", mona, status="confirmed")
    assert _ids(confirmed) == _in_order(mine[:2])
    window = await _all_pages(client, "/v1/me/bookings", mona, **{"from": STARTS[3], "to": STARTS[5]})
    assert _ids(window) == [mine[0]["id"]]
    # An owner with no bookings of their own sees none, not their business's.
    assert await _all_pages(client, "/v1/me/bookings", cuts.owner) == []
    assert (await client.get("/v1/me/bookings")).status_code == 401


async def test_each_booking_shows_its_instant_in_utc_and_its_business_local_time(
    client: httpx.AsyncClient,
) -> None:
    """A customer's bookings span businesses in different zones: each item names its own
    zone and local time (before, bookings had UTC only, and slots local time only)."""
    cairo, dubai = await open_bookable_shop(client, barbers=1), await open_bookable_shop(client, barbers=1)
    moved = await client.patch(
        f"/v1/businesses/{dubai.business_id}", headers=dubai.owner.headers, json={"time_zone": "Asia/Dubai"}
    )
    assert moved.status_code == 200, moved.text
    mona = await customer(client)
    in_cairo = await book(client, cairo, mona, "2026-11-26T09:00:00+02:00")
    in_dubai = await book(client, dubai, mona, "2026-11-26T09:00:00+04:00")
    assert (in_cairo.status_code, in_dubai.status_code) == (201, 201), in_dubai.text
    assert (in_cairo.json()["starts_at"], in_cairo.json()["starts_at_local"]) == (
        "2026-11-26T07:00:00Z",
        "2026-11-26T09:00:00+02:00",
    )
    shown = {item["business_id"]: item for item in await _all_pages(client, "/v1/me/bookings", mona)}
    local = {
        business: (b["time_zone"], b["starts_at"], b["starts_at_local"]) for business, b in shown.items()
    }
    assert local == {
        str(cairo.business_id): ("Africa/Cairo", "2026-11-26T07:00:00Z", "2026-11-26T09:00:00+02:00"),
        str(dubai.business_id): ("Asia/Dubai", "2026-11-26T05:00:00Z", "2026-11-26T09:00:00+04:00"),
    }


PHONE = "+201001234567"


def _customers(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {item["id"]: item["customer"] for item in items}


async def test_staff_lists_name_each_customer_with_their_proven_phone(client: httpx.AsyncClient) -> None:
    """Before, a staff list showed a customer id only: the front desk could not call anyone."""
    shop = await open_bookable_shop(client, barbers=2)
    mona, omar = await sign_up(client, "mona"), await sign_up(client, "omar")
    await prove_phone(client, mona, PHONE)
    made = await _book_all(client, shop, [mona, omar])
    front_desk = await sign_up(client, "staff")
    await add_staff(client, shop.owner, shop.business_id, front_desk)

    named = {
        str(mona.user_id): {"id": str(mona.user_id), "name": "Mona", "phone": PHONE},
        str(omar.user_id): {"id": str(omar.user_id), "name": "Omar", "phone": None},  # none proven
    }
    expected = {b["id"]: named[b["customer_id"]] for b in made}
    for who in (front_desk, shop.owner):
        assert _customers(await _all_pages(client, f"{shop.url}/bookings", who, limit=3)) == expected
    # The customer filter narrows the page; each item still names its customer.
    only_omar = await _all_pages(client, f"{shop.url}/bookings", front_desk, customer_id=str(omar.user_id))
    assert {item["customer"]["name"] for item in only_omar} == {"Omar"}
    # A customer's own list names them alike (their own data), and nobody else.
    mine = await _all_pages(client, "/v1/me/bookings", mona)
    assert _customers(mine) == {b["id"]: named[str(mona.user_id)] for b in made[0::2]}


async def test_a_guest_booked_by_name_is_named_without_an_account(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    walk_in = await book(client, shop, shop.owner, STARTS[0], guest_name="Someone New")
    assert walk_in.status_code == 201, walk_in.text
    items, _ = await _list(client, f"{shop.url}/bookings", shop.owner)
    assert [(item["customer_id"], item["guest_name"]) for item in items] == [(None, "Someone New")]
    assert items[0]["customer"] == {"id": None, "name": "Someone New", "phone": None}


async def test_a_page_reads_its_customers_with_its_bookings_not_one_query_each(
    client: httpx.AsyncClient, db: Database
) -> None:
    shop = await open_bookable_shop(client, barbers=2)
    mona, omar = await sign_up(client, "mona"), await sign_up(client, "omar")
    await prove_phone(client, mona, PHONE)
    path = f"{shop.url}/bookings"
    assert (await book(client, shop, mona, "2026-11-25T09:00:00+02:00")).status_code == 201
    await _list(client, path, shop.owner)  # (a first request may warm a cache)

    with statements(db) as for_one:
        one, _ = await _list(client, path, shop.owner)
    assert [item["customer"]["phone"] for item in one] == [PHONE]

    for hour in range(10, 19):  # 9 more: accounts, proven phone or not, and guests
        starts_at = f"2026-11-25T{hour:02d}:00:00+02:00" if hour < 18 else "2026-11-26T09:00:00+02:00"
        by_name = {"guest_name": f"Guest {hour}"} if hour % 3 == 0 else {}
        who = shop.owner if by_name else (mona, omar)[hour % 2]
        made = await book(client, shop, who, starts_at, **by_name)
        assert made.status_code == 201, made.text
    with statements(db) as for_ten:
        ten, _ = await _list(client, path, shop.owner)
    assert len(ten) == 10
    assert {item["customer"]["name"] for item in ten} == {"Mona", "Omar", "Guest 12", "Guest 15", "Guest 18"}
    assert len(for_ten) == len(for_one), (for_one, for_ten)
    assert sum("LEFT OUTER JOIN app_user" in sql for sql in for_ten) == 1, for_ten  # the page's own
