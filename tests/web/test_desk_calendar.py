"""The front desk's calendar in-process over a real database: a staff member's break and
time off drawn on the day, the rooms' view with each booking under the chair it holds,
and the week counting each day's bookings and linking to it; staff see their own."""

from __future__ import annotations

import re

import httpx
from web_forms import signed_in

from booking_support import ALL_WEEK_9_TO_18, BookableShop, book, customer, open_bookable_shop
from support import Account, add_staff

DAY = "2026-11-24"  # a Tuesday; the suite's clock reads 11:00 that morning in Cairo
TUESDAY = 1


async def _linked_barber(client: httpx.AsyncClient, shop: BookableShop, index: int) -> Account:
    """A staff account linked to the shop's barber `index`."""
    barber = await customer(client)
    await add_staff(client, shop.owner, shop.business_id, barber)
    linked = await client.patch(
        f"{shop.url}/staff/{shop.staff_ids[index]}",
        headers=shop.owner.headers,
        json={"user_id": str(barber.user_id)},
    )
    assert linked.status_code == 200, linked.text
    return barber


def _shades(page: str) -> list[str]:
    return re.findall(r'<div class="shade (\w+)"', page)


async def test_a_break_and_time_off_are_drawn_on_the_day(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client)
    with_break = {**ALL_WEEK_9_TO_18, "breaks": [{"weekday": TUESDAY, "start": "13:00", "end": "14:00"}]}
    week = await client.put(
        f"{shop.url}/staff/{shop.staff_ids[0]}/weekly-schedule", headers=shop.owner.headers, json=with_break
    )
    assert week.status_code == 200, week.text
    leave = {"starts_at": f"{DAY}T15:00:00+02:00", "ends_at": f"{DAY}T18:00:00+02:00", "reason": "Dentist"}
    off = await client.post(
        f"{shop.url}/staff/{shop.staff_ids[1]}/time-off", headers=shop.owner.headers, json=leave
    )
    assert off.status_code == 201, off.text
    signed_in(client, shop.owner)

    day = await client.get(f"/en/desk/{shop.business_id}", params={"on": DAY})
    assert day.status_code == 200, day.text
    shades = _shades(day.text)
    assert shades.count("break") == 1
    assert shades.count("time_off") == 1
    assert "off" in shades  # before 09:00 and after 18:00: outside their hours
    assert re.search(r'class="shade break"[^>]*>Break <span class="visually-hidden">1:00\s?PM', day.text)
    assert re.search(
        r'class="shade time_off"[^>]*>Time off <span class="visually-hidden">3:00\s?PM', day.text
    )
    arabic = await client.get(f"/ar/desk/{shop.business_id}", params={"on": DAY})
    assert "استراحة" in arabic.text
    assert "إجازة" in arabic.text


async def test_the_rooms_view_shows_a_booking_under_the_chair_it_holds(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, chairs=2)
    booked = await book(
        client, shop, await customer(client), f"{DAY}T12:00:00+02:00", staff_id=shop.staff_ids[0]
    )
    assert booked.status_code == 201, booked.text
    booking_id = booked.json()["id"]
    (chair,) = booked.json()["resource_ids"]
    column = shop.chair_ids.index(chair) + 2
    signed_in(client, shop.owner)

    rooms = await client.get(f"/en/desk/{shop.business_id}", params={"on": DAY, "by": "room"})
    assert rooms.status_code == 200, rooms.text
    assert "Chair 0" in rooms.text
    assert "Chair 1" in rooms.text
    # Rooms with no hours, in a business with none, are open round the clock: the grid
    # still shows the working day (09:00-21:00, 144 rows of five minutes), not 24 hours.
    assert "repeat(144, .45rem)" in rooms.text
    assert re.search(
        rf'class="block confirmed" style="grid-column:{column};[^"]*" href="[^"]*/bookings/{booking_id}"',
        rooms.text,
    )

    # Staff see every room (which is free), but only their own bookings in full.
    other = await _linked_barber(client, shop, 1)
    signed_in(client, other)
    seen = await client.get(f"/en/desk/{shop.business_id}", params={"on": DAY, "by": "room"})
    assert seen.status_code == 200
    assert f"/bookings/{booking_id}" not in seen.text
    assert re.search(rf'class="block busy" style="grid-column:{column};', seen.text)
    assert "Booked" in seen.text


async def test_the_week_counts_a_days_bookings_and_links_to_the_day(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client)
    for hour in (12, 15):
        booked = await book(
            client, shop, await customer(client), f"{DAY}T{hour}:00:00+02:00", staff_id=shop.staff_ids[0]
        )
        assert booked.status_code == 201, booked.text
    signed_in(client, shop.owner)

    week = await client.get(f"/en/desk/{shop.business_id}/week", params={"from": DAY})
    assert week.status_code == 200, week.text
    # Egypt's week: the Saturday before.
    assert "Week of Saturday, November 21, 2026" in week.text
    assert 'href="/en/desk/' + str(shop.business_id) + '/week?from=2026-11-14" rel="prev"' in week.text
    cells = re.findall(rf'<td data-label="Barber 0"><a href="[^"]*\?on={DAY}">([^<]*)', week.text)
    assert cells == ["Bookings: 2"]
    assert re.search(
        rf'<td data-label="Barber 1"><a href="[^"]*\?on={DAY}"><span class="muted">No bookings', week.text
    )
    assert (await client.get(f"/ar/desk/{shop.business_id}/week")).status_code == 200


async def test_staff_see_only_their_own_column_on_the_week(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client)
    barber = await _linked_barber(client, shop, 1)
    signed_in(client, barber)
    own = await client.get(f"/en/desk/{shop.business_id}/week", params={"from": DAY})
    assert own.status_code == 200
    assert "Barber 1" in own.text
    assert "Barber 0" not in own.text
