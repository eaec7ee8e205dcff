"""The owner's hours page, in-process on a real database: a lunch break, a staff member's
own week and a time off each change what customers are offered (the availability API);
special dates are listed and deleted; the page is an owner's only, and a malformed time
is named by its field in the reader's language. The clock stands at 2026-11-24 11:00 in
Cairo; the shop's barbers work 09:00-18:00 every day."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import httpx
from web_forms import csrf_of, signed_in

from booking_support import BookableShop, customer, open_bookable_shop
from booklnk.catalog.schedule_rules import Span, WeeklySpan
from booklnk.web import hours_form, presenting
from support import add_staff

DAY = "2026-11-25"


def _page(shop: BookableShop, language: str = "en") -> str:
    return f"/{language}/desk/{shop.business_id}/settings/hours"


def _week(first: tuple[str, str], second: tuple[str, str] | None = None) -> dict[str, str]:
    """Every day open with these periods (the form's fields)."""
    fields: dict[str, str] = {}
    for day in range(7):
        fields |= {f"open_{day}": "on", f"start_{day}": first[0], f"end_{day}": first[1]}
        if second:
            fields |= {f"start2_{day}": second[0], f"end2_{day}": second[1]}
    return fields


async def _post(
    client: httpx.AsyncClient, shop: BookableShop, action: str, fields: dict[str, str], language: str = "en"
) -> httpx.Response:
    token = await csrf_of(client, _page(shop, language))
    return await client.post(f"{_page(shop, language)}{action}", data={"csrf": token, **fields})


async def _times(client: httpx.AsyncClient, shop: BookableShop, staff_id: str | None = None) -> set[str]:
    """The local clock times offered on DAY (of one staff member, when given)."""
    who = await customer(client)
    query: dict[str, Any] = {
        "service_id": shop.service_id,
        "from": f"{DAY}T00:00:00+02:00",
        "to": "2026-11-26T00:00:00+02:00",
    }
    if staff_id:
        query["staff_id"] = staff_id
    found = await client.get(f"{shop.url}/availability", headers=who.headers, params=query)
    assert found.status_code == 200, found.text
    return {slot["starts_at_local"][11:16] for slot in found.json()["slots"]}


async def test_a_lunch_break_in_the_business_week_is_no_longer_offered(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    signed_in(client, shop.owner)
    before = await _times(client, shop)
    assert {"13:00", "13:30"} <= before
    saved = await _post(client, shop, "/week", _week(("09:00", "13:00"), ("14:00", "18:00")))
    assert saved.status_code == 303, saved.text
    after = await _times(client, shop)
    assert {"10:00", "12:00", "14:00", "16:00"} <= after
    assert not {t for t in after if "12:31" <= t < "14:00"}
    # The page reads the week back as the two periods it was given.
    page = await client.get(_page(shop))
    assert 'name="end_2" value="13:00"' in page.text
    assert 'name="start2_2" value="14:00"' in page.text
    # The business's own page says the same: two periods that day, not 09:00-18:00.
    slug = (await client.get(shop.url, headers=shop.owner.headers)).json()["slug"]
    public = await client.get(f"/en/b/{slug}")

    def period(start: int, end: int) -> str:
        return f"{presenting.wall_clock(start * 60, 'en')} \u2013 {presenting.wall_clock(end * 60, 'en')}"

    assert period(9, 13) in public.text
    assert period(14, 18) in public.text
    assert period(9, 18) not in public.text


async def test_a_staff_members_own_afternoon_week_narrows_only_their_times(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=2)
    signed_in(client, shop.owner)
    afternoons, other = shop.staff_ids
    saved = await _post(client, shop, "/week", {"staff": afternoons, **_week(("14:00", "18:00"))})
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"].endswith(f"?staff={afternoons}#week")
    theirs = await _times(client, shop, afternoons)
    assert theirs
    assert min(theirs) == "14:00"
    assert "10:00" in await _times(client, shop, other)
    page = await client.get(_page(shop), params={"staff": afternoons})
    assert page.status_code == 200
    assert "Barber 0&#39;s week" in page.text
    assert 'name="start_2" value="14:00"' in page.text


async def test_a_time_off_removes_that_members_times_until_it_is_deleted(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=2)
    signed_in(client, shop.owner)
    away = shop.staff_ids[0]
    fields = {"staff": away, "off_from": DAY, "off_start": "12:00", "off_to": DAY, "off_end": "15:00"}
    added = await _post(client, shop, "/time-off", {**fields, "reason": "Dentist"})
    assert added.status_code == 303, added.text
    during = await _times(client, shop, away)
    assert "10:00" in during
    assert not {t for t in during if "11:31" <= t < "15:00"}
    page = await client.get(_page(shop))
    assert "Dentist" in page.text
    found = re.search(r'action="([^"]+/time-off/[0-9a-f-]{36}/delete)"', page.text)
    assert found is not None
    token = await csrf_of(client, _page(shop))
    deleted = await client.post(found.group(1), data={"csrf": token, "staff": away})
    assert deleted.status_code == 303, deleted.text
    assert {"12:00", "14:00"} <= await _times(client, shop, away)
    assert "Dentist" not in (await client.get(_page(shop))).text


async def test_a_whole_day_off_needs_no_times(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    signed_in(client, shop.owner)
    fields = {"staff": shop.staff_ids[0], "off_from": DAY, "off_to": DAY}
    assert (await _post(client, shop, "/time-off", fields)).status_code == 303
    assert await _times(client, shop) == set()


async def test_special_dates_are_listed_as_one_range_and_deleted(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    signed_in(client, shop.owner)
    fields = {"from": DAY, "to": "2026-11-27", "start": "16:00", "end": "18:00"}
    assert (await _post(client, shop, "/special", fields)).status_code == 303
    assert min(await _times(client, shop)) == "16:00"
    page = await client.get(_page(shop))
    assert page.text.count('action="' + _page(shop) + '/special/delete"') == 1
    assert 'name="to" value="2026-11-27"' in page.text
    deleted = await _post(client, shop, "/special/delete", {"from": DAY, "to": "2026-11-27"})
    assert deleted.status_code == 303
    assert "10:00" in await _times(client, shop)
    assert "/special/delete" not in (await client.get(_page(shop))).text


async def test_the_hours_page_is_for_owners_only(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    barber = await customer(client)
    await add_staff(client, shop.owner, shop.business_id, barber)
    signed_in(client, barber)
    assert (await client.get(_page(shop))).status_code == 403
    token = await csrf_of(client, "/en/")
    refused = await client.post(f"{_page(shop)}/week", data={"csrf": token, **_week(("14:00", "15:00"))})
    assert refused.status_code == 403
    assert "10:00" in await _times(client, shop)


async def test_a_malformed_time_is_named_by_its_field_in_arabic(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    signed_in(client, shop.owner)
    fields = _week(("09:00", "13:00"), ("14:00", "18:00")) | {"start2_2": "25:99"}
    refused = await _post(client, shop, "/week", fields, language="ar")
    assert refused.status_code == 422
    assert '<html lang="ar" dir="rtl">' in refused.text
    assert "الأربعاء، الفترة الثانية (اختيارية)، من، اكتب الوقت بالشكل HH:MM" in refused.text
    assert 'name="start2_2" value="25:99" dir="ltr"' in refused.text
    assert re.search(r'name="start2_2"[^>]*aria-invalid="true"', refused.text)
    assert "13:00" in await _times(client, shop)  # nothing was saved


async def test_overlaps_backwards_or_far_dates_and_unknown_members_are_refused(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    signed_in(client, shop.owner)
    overlap = await _post(client, shop, "/week", _week(("09:00", "14:00"), ("13:00", "18:00")))
    assert overlap.status_code == 422
    assert "Second period (optional), From, The two periods overlap." in overlap.text
    backwards = {
        "staff": shop.staff_ids[0],
        "off_from": DAY,
        "off_start": "15:00",
        "off_to": DAY,
        "off_end": "12:00",
    }
    refused = await _post(client, shop, "/time-off", backwards)
    assert refused.status_code == 422
    assert "To time, The end must be later than the start." in refused.text
    too_long = await _post(
        client, shop, "/special", {"from": DAY, "to": "2027-06-01", "start": "10:00", "end": "12:00"}
    )
    assert too_long.status_code == 422
    assert "Last day, From 1 to 62 days" in too_long.text
    far = {"staff": shop.staff_ids[0], "off_from": DAY, "off_to": "9999-12-31"}
    refused = await _post(client, shop, "/time-off", far)
    assert refused.status_code == 422
    assert "To day, Pick a date from 2000 to 2199." in refused.text
    nobody = await _post(client, shop, "/week", {"staff": "not-an-id", **_week(("14:00", "15:00"))})
    assert nobody.status_code == 404
    assert "10:00" in await _times(client, shop)


async def test_the_first_run_form_saves_a_break_too(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    signed_in(client, shop.owner)
    token = await csrf_of(client, f"/en/desk/{shop.business_id}/setup")
    fields = _week(("09:00", "13:00"), ("14:00", "18:00"))
    saved = await client.post(f"/en/desk/{shop.business_id}/setup/hours", data={"csrf": token, **fields})
    assert saved.status_code == 303, saved.text
    assert "13:30" not in await _times(client, shop)
    refused = await client.post(
        f"/ar/desk/{shop.business_id}/setup/hours", data={"csrf": token, **fields, "end_3": "9"}
    )
    assert refused.status_code == 422
    assert "الخميس، الفترة الأولى، إلى، اكتب الوقت" in refused.text


def test_two_periods_are_one_working_span_with_the_gap_as_its_break() -> None:
    week = hours_form.parse_week(
        {"open_0": "on", "start_0": "15:00", "end_0": "22:00", "start2_0": "10:00", "end2_0": "14:00"}
    )
    assert week.hours == [WeeklySpan(0, Span(600, 1320))]
    assert week.breaks == [WeeklySpan(0, Span(840, 900))]
    touching = hours_form.parse_week(
        {"open_1": "on", "start_1": "10:00", "end_1": "14:00", "start2_1": "14:00", "end2_1": "18:00"}
    )
    assert touching.breaks == []
    rows = {row.day: row for row in hours_form.week_rows(week, "en")}
    assert rows[0].periods == [("10:00", "14:00"), ("15:00", "22:00")]
    assert not rows[1].open


def test_consecutive_special_dates_with_the_same_hours_are_one_group() -> None:
    evening = [Span(1200, 1440)]
    days = [(date(2026, 3, d), False, evening) for d in (1, 2, 3)] + [(date(2026, 3, 5), True, [])]
    groups = hours_form.group_dates(days, "en")
    assert [(g.first.day, g.last.day, g.closed) for g in groups] == [(1, 3, False), (5, 5, True)]
