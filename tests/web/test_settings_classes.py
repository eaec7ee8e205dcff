"""The owner's class timetable in-process (the suite's clock: Tuesday 2026-11-24, 11:00
in Cairo): a weekly series published from the page has its sessions in the API's list and
on the customer's page; a class needing a room takes the one chosen; cancelling says what
it does, then cancels every session and its bookings; staff are refused; bad input names
its field (in Arabic on /ar) and publishes nothing; a barbershop is told what the page is for."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from web_forms import csrf_of, signed_in

from booking_support import customer, open_bookable_shop
from class_support import Gym, open_gym, publish, take_seat
from support import add_staff, sign_up

WINDOW = {"from": "2026-11-24T00:00:00+02:00", "to": "2026-12-22T00:00:00+02:00"}


def _page(gym: Gym, language: str = "en") -> str:
    return f"/{language}/desk/{gym.business_id}/settings/classes"


def _form(gym: Gym, csrf: str, **changes: str) -> dict[str, str]:
    """Tuesdays and Thursdays at 18:00 from today, six sessions."""
    form = {
        "csrf": csrf,
        "service": gym.service_id,
        "instructor": gym.staff_id,
        "day_1": "on",
        "day_3": "on",
        "start_time": "18:00",
        "first_date": "2026-11-24",
        "count": "6",
    }
    return {k: v for k, v in (form | changes).items() if v}


async def _sessions(client: httpx.AsyncClient, gym: Gym) -> list[dict[str, Any]]:
    found = await client.get(f"{gym.base}/class-sessions", params=WINDOW, headers=gym.owner.headers)
    assert found.status_code == 200, found.text
    items: list[dict[str, Any]] = found.json()["items"]
    return items


async def _series_count(owner_engine: AsyncEngine, gym: Gym) -> int:
    """Series rows of the gym, sessions or not (no API lists series)."""
    async with owner_engine.connect() as conn:
        found = await conn.scalar(
            text("SELECT count(*) FROM class_series WHERE business_id = :id"), {"id": gym.business_id}
        )
    return int(found or 0)


async def test_an_owner_publishes_a_weekly_class_and_customers_see_its_sessions(
    client: httpx.AsyncClient,
) -> None:
    gym = await open_gym(client)
    signed_in(client, gym.owner)
    csrf = await csrf_of(client, _page(gym))
    published = await client.post(_page(gym), data=_form(gym, csrf))
    assert published.status_code == 303, published.text

    sessions = await _sessions(client, gym)
    assert [s["starts_at"][:16] for s in sessions] == [
        "2026-11-24T16:00",
        "2026-11-26T16:00",
        "2026-12-01T16:00",
        "2026-12-03T16:00",
        "2026-12-08T16:00",
        "2026-12-10T16:00",
    ]
    assert {(s["capacity"], s["staff_id"]) for s in sessions} == {(3, gym.staff_id)}

    page = (await client.get(_page(gym))).text
    assert "Every Tuesday, Thursday at 6:00\u202fPM · 6 sessions" in page
    assert "0 taken, 3 left" in page
    slug = (await client.get(gym.base, headers=gym.owner.headers)).json()["slug"]
    times = await client.get(f"/en/b/{slug}/s/{gym.service_id}", params={"day": "2026-11-26"})
    assert times.status_code == 200
    assert f"/c/{sessions[1]['id']}" in times.text


async def test_a_class_needing_a_room_takes_the_room_chosen(client: httpx.AsyncClient) -> None:
    gym = await open_gym(client)
    rooms = []
    for name in ("Studio A", "Studio B"):
        made = await client.post(
            f"{gym.base}/resources", headers=gym.owner.headers, json={"name": name, "kind": "room"}
        )
        assert made.status_code == 201, made.text
        rooms.append(made.json()["id"])
    needs = await client.patch(
        f"{gym.base}/services/{gym.service_id}",
        headers=gym.owner.headers,
        json={"required_resource_kinds": ["room"]},
    )
    assert needs.status_code == 200, needs.text
    signed_in(client, gym.owner)
    csrf = await csrf_of(client, _page(gym))

    unchosen = await client.post(_page(gym), data=_form(gym, csrf))
    assert unchosen.status_code == 422
    assert "Room: Choose the room the class takes place in." in unchosen.text
    assert await _sessions(client, gym) == []

    chosen = await client.post(_page(gym), data=_form(gym, csrf, room=rooms[1]))
    assert chosen.status_code == 303, chosen.text
    assert {tuple(s["resource_ids"]) for s in await _sessions(client, gym)} == {(rooms[1],)}
    assert "Studio B" in (await client.get(_page(gym))).text

    # The same room at the same times is taken: the page says so (409), naming the field.
    clash = await client.post(_page(gym), data=_form(gym, csrf, room=rooms[1]))
    assert clash.status_code == 409
    assert "Room: The instructor or the room is taken" in clash.text


async def test_cancelling_a_series_says_what_it_does_then_cancels_its_sessions_and_bookings(
    client: httpx.AsyncClient,
) -> None:
    gym = await open_gym(client, pay_at_venue=True)
    series = (await publish(client, gym))["series"]
    sessions = await _sessions(client, gym)
    someone = await customer(client)
    seat = await take_seat(client, gym, sessions[2]["id"], someone)
    assert seat.status_code == 201, seat.text

    signed_in(client, gym.owner)
    asked = await client.get(f"{_page(gym, 'ar')}/{series['id']}/cancel")
    assert asked.status_code == 200
    assert "(الحصص القادمة: 6)" in asked.text
    assert "(الأماكن المحجوزة: 1)" in asked.text
    assert "ويُرد لكل عميل كل ما دفعه" in asked.text
    assert "1 taken, 2 left" in (await client.get(_page(gym))).text

    csrf = await csrf_of(client, _page(gym))
    cancelled = await client.post(f"{_page(gym)}/{series['id']}/cancel", data={"csrf": csrf, "version": "1"})
    assert cancelled.status_code == 303, cancelled.text
    assert {s["status"] for s in await _sessions(client, gym)} == {"cancelled"}
    booking = await client.get(f"{gym.base}/bookings/{seat.json()['id']}", headers=gym.owner.headers)
    assert booking.json()["status"] == "cancelled"
    page = (await client.get(_page(gym))).text
    assert "No upcoming classes published." in page

    again = await client.post(f"{_page(gym)}/{series['id']}/cancel", data={"csrf": csrf})
    assert again.status_code == 303
    assert "were cancelled already" in (await client.get(f"{_page(gym)}/{series['id']}/cancel")).text


async def test_bad_input_names_its_field_in_arabic_and_publishes_nothing(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    gym = await open_gym(client)
    signed_in(client, gym.owner)
    csrf = await csrf_of(client, _page(gym, "ar"))
    cases = {
        "الأيام: اختر يومًا واحدًا على الأقل.": {"day_1": "", "day_3": ""},
        "وقت البدء: اكتب الوقت بالشكل HH:MM": {"start_time": "6pm"},
        "وقت البدء: يبدأ الموعد على جدول المواعيد": {"start_time": "18:15"},
        "أول يوم: هذا الحقل مطلوب.": {"first_date": ""},
        "عدد الحصص: اختر آخر يوم أو عدد الحصص، لا الاثنين معًا.": {"until": "2026-12-31"},
        "عدد الأماكن: اكتب عددًا صحيحًا من 1 إلى 1000.": {"capacity": "100000"},
        "المدة (بالدقائق): اختر مدة من مدد هذه الخدمة.": {"length": "45"},
        "المدرب: اختر من القائمة.": {"instructor": gym.service_id},
    }
    for sentence, changes in cases.items():
        refused = await client.post(_page(gym, "ar"), data=_form(gym, csrf, **changes))
        assert refused.status_code == 422, (sentence, refused.text)
        assert '<html lang="ar" dir="rtl">' in refused.text
        assert sentence in refused.text, sentence
    # Closing at 17:00 is found after the series' row is written: none of it is kept.
    hours = {"hours": [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(7)], "breaks": []}
    closed = await client.put(f"{gym.base}/weekly-schedule", headers=gym.owner.headers, json=hours)
    assert closed.status_code == 200, closed.text
    late = await client.post(_page(gym, "ar"), data=_form(gym, csrf))
    assert late.status_code == 422
    assert "وقت البدء: المكان مغلق في بعض هذه المواعيد." in late.text
    assert await _sessions(client, gym) == []
    assert "لا حصص منشورة قادمة." in late.text
    assert await _series_count(owner_engine, gym) == 0
    early = await client.post(_page(gym, "ar"), data=_form(gym, csrf, start_time="10:00"))
    assert early.status_code == 303, early.text
    # Today's 10:00 has passed (it is 11:00): it counts among the six, but is not held.
    assert len(await _sessions(client, gym)) == 5
    assert await _series_count(owner_engine, gym) == 1


async def test_the_classes_page_is_for_owners_and_says_what_it_is_for(client: httpx.AsyncClient) -> None:
    gym = await open_gym(client)
    coach = await sign_up(client, "coach")
    await add_staff(client, gym.owner, gym.business_id, coach)
    signed_in(client, coach)
    refused = await client.get(_page(gym, "ar"))
    assert refused.status_code == 403
    assert "دورك في هذا المكان لا يسمح" in refused.text
    csrf = await csrf_of(client, "/ar/")
    posted = await client.post(_page(gym, "ar"), data=_form(gym, csrf))
    assert posted.status_code == 403
    assert await _sessions(client, gym) == []

    shop = await open_bookable_shop(client, barbers=1)
    signed_in(client, shop.owner)
    page = await client.get(f"/en/desk/{shop.business_id}/settings/classes")
    assert page.status_code == 200
    assert "The class timetable is for businesses that run group classes" in page.text
    assert 'name="start_time"' not in page.text
    csrf = await csrf_of(client, f"/en/desk/{shop.business_id}/settings/classes")
    form = {"service": shop.service_id, "instructor": shop.staff_ids[0]}
    refused = await client.post(
        f"/en/desk/{shop.business_id}/settings/classes", data=_form(gym, csrf, **form)
    )
    assert refused.status_code == 422
    assert "The class timetable is for businesses that run group classes" in refused.text


async def test_a_series_starting_beyond_the_booking_horizon_is_listed_before_its_sessions_exist(
    client: httpx.AsyncClient,
) -> None:
    gym = await open_gym(client)
    signed_in(client, gym.owner)
    csrf = await csrf_of(client, _page(gym))
    later = await client.post(_page(gym), data=_form(gym, csrf, first_date="2027-03-02", start_time="07:00"))
    assert later.status_code == 303, later.text
    assert await _sessions(client, gym) == []  # none stored yet: the daily job makes them nearer the time
    assert "Every Tuesday, Thursday at 7:00\u202fAM" in (await client.get(_page(gym))).text
