"""A booking's panel at the front desk, in-process on the suite's clock: changing its time
(the free times of the same service and length, the move through the customer's own
application service, a stale page refused with a sentence, bad input a page naming it)
and the messages its customer was sent."""

from __future__ import annotations

import re

import httpx
from web_forms import csrf_of, signed_in

from booking_support import BookableShop, book, customer, open_bookable_shop

DAY = "2026-11-25"
BOOKED = "2026-11-25T13:00:00+02:00"
NEW_START = "2026-11-25T15:00:00+00:00"  # 17:00 in Cairo


async def _booked_panel(client: httpx.AsyncClient, shop: BookableShop) -> tuple[str, str]:
    someone = await customer(client)
    booked = await book(client, shop, someone, BOOKED)
    assert booked.status_code == 201, booked.text
    signed_in(client, shop.owner)
    return str(booked.json()["id"]), f"/en/desk/{shop.business_id}/bookings/{booked.json()['id']}"


def _move_form(page: str, start: str) -> dict[str, str]:
    """The fields of the free time's one-tap form that starts at `start`."""
    for form in re.findall(r"<form method=\"post\"[^>]*>(.*?)</form>", page, flags=re.DOTALL):
        fields = dict(re.findall(r'name="([a-z]+)" value="([^"]*)"', form))
        if fields.get("start") == start:
            return fields
    raise AssertionError(f"no free time at {start}")


async def test_a_move_at_the_desk_lands_at_the_new_time_and_a_stale_page_is_refused(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    booking_id, panel = await _booked_panel(client, shop)
    shown = await client.get(panel)
    assert f'href="{panel}/reschedule"' in shown.text
    times = await client.get(f"{panel}/reschedule", params={"day": DAY})
    assert times.status_code == 200
    assert 'label for="day"' in times.text
    fields = _move_form(times.text, NEW_START)
    assert fields["staff"] == shop.staff_ids[0]  # the same barber keeps the customer

    moved = await client.post(f"{panel}/reschedule", data=fields)
    assert moved.status_code == 303, moved.text
    assert moved.headers["location"] == f"{panel}?done=moved"
    after = await client.get(
        f"/v1/businesses/{shop.business_id}/bookings/{booking_id}", headers=shop.owner.headers
    )
    assert after.json()["starts_at"] == "2026-11-25T15:00:00Z"
    assert after.json()["ends_at"] == "2026-11-25T15:30:00Z"  # the same length

    stale = await client.post(f"{panel}/reschedule", data={**fields, "start": "2026-11-25T16:00:00+00:00"})
    assert stale.status_code == 412
    assert "The booking changed meanwhile. Look at it again and retry." in stale.text
    unchanged = await client.get(
        f"/v1/businesses/{shop.business_id}/bookings/{booking_id}", headers=shop.owner.headers
    )
    assert unchanged.json()["starts_at"] == "2026-11-25T15:00:00Z"


async def test_a_taken_time_and_bad_input_are_pages_naming_the_problem(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    booking_id, panel = await _booked_panel(client, shop)
    other = await book(client, shop, await customer(client), NEW_START)
    assert other.status_code == 201, other.text
    signed_in(client, shop.owner)
    token = await csrf_of(client, panel)
    version = re.search(r'name="version" value="([0-9]+)"', (await client.get(panel)).text)
    assert version is not None
    move = {"csrf": token, "version": version.group(1), "staff": shop.staff_ids[0]}

    taken = await client.post(f"{panel}/reschedule", data={**move, "start": NEW_START})
    assert taken.status_code == 409
    assert "Someone just took this time. Pick another one." in taken.text
    garbled = await client.post(f"{panel}/reschedule", data={**move, "start": "tomorrow-ish"})
    assert garbled.status_code == 422
    assert "form.start" in garbled.text
    blind = await client.post(f"{panel}/reschedule", data={**move, "version": "", "start": NEW_START})
    assert blind.status_code == 422
    assert "form.version" in blind.text
    bad_day = await client.get(f"/ar/desk/{shop.business_id}/bookings/{booking_id}/reschedule?day=31-31")
    assert bad_day.status_code == 422
    assert '<html lang="ar" dir="rtl">' in bad_day.text
    assert "query.day" in bad_day.text
    far = await client.get(f"/en/desk/{shop.business_id}/bookings/{booking_id}/reschedule?day=9999-12-31")
    assert far.status_code == 200
    assert "No free times on this day. Try another day." in far.text


async def test_a_bookings_panel_lists_the_confirmation_sent_for_it(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    _booking_id, panel = await _booked_panel(client, shop)
    shown = await client.get(panel)
    assert shown.status_code == 200
    listed = shown.text.split("Messages sent", 1)[1]
    assert re.search(r"<strong>Confirmation</strong> · E-mail<br>", listed)
    arabic = await client.get(panel.replace("/en/", "/ar/"))
    assert "<strong>تأكيد الحجز</strong> · بريد إلكتروني<br>" in arabic.text


async def test_a_panel_holds_back_the_no_show_until_its_time_and_says_when(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    _booking_id, panel = await _booked_panel(client, shop)  # 13:00 Cairo; the clock is at 11:00
    shown = await client.get(panel)
    assert 'value="no_show"' not in shown.text
    # 13:00 plus the 15 minutes' grace; check-in half an hour before the start.
    assert re.search(r"A no-show can be marked only from 1:15\s?PM: after the start", shown.text)
    assert re.search(r"Check-in opens at 12:30\s?PM\.", shown.text)
