"""Booking over HTTP: what availability offers, booking accepts; taken slots answer 409;
rules answer 422 naming themselves; holds expire; statuses move along the graph only."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta

import httpx

from booking_support import book, customer, open_bookable_shop
from support import FakeClock, log_in

TOMORROW_10 = "2026-11-25T10:00:00+02:00"  # the clock stands at 2026-11-24 11:00 in Cairo


async def _slots(
    client: httpx.AsyncClient, shop: object, who: object, **params: str
) -> list[dict[str, object]]:
    query = {
        "service_id": shop.service_id,
        "from": "2026-11-25T00:00:00+02:00",  # type: ignore[attr-defined]
        "to": "2026-11-26T00:00:00+02:00",
        **params,
    }
    response = await client.get(f"{shop.url}/availability", headers=who.headers, params=query)  # type: ignore[attr-defined]
    assert response.status_code == 200, response.text
    return list(response.json()["slots"])


async def test_booked_time_leaves_availability_with_its_buffer(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    before = {s["starts_at_local"] for s in await _slots(client, shop, mona)}
    assert TOMORROW_10 in before
    created = await book(client, shop, mona, TOMORROW_10)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "confirmed"  # barbershops are paid at the venue
    assert created.headers["etag"] == '"1"'
    after = {s["starts_at_local"] for s in await _slots(client, shop, mona)}
    # 30 minutes plus the barbershop's 5-minute buffer: 10:00, 10:15 and 10:30 are gone.
    assert before - after == {
        "2026-11-25T10:00:00+02:00",
        "2026-11-25T10:15:00+02:00",
        "2026-11-25T10:30:00+02:00",
        "2026-11-25T09:45:00+02:00",
        "2026-11-25T09:30:00+02:00",
    }


async def test_a_taken_slot_is_409_and_any_staff_takes_the_next(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=2)
    first, second, third = await customer(client), await customer(client), await customer(client)
    named = await book(client, shop, first, TOMORROW_10, staff_id=shop.staff_ids[0])
    assert named.status_code == 201
    again = await book(client, shop, second, TOMORROW_10, staff_id=shop.staff_ids[0])
    assert again.status_code == 409
    assert again.json()["code"] == "slot_unavailable"
    anyone = await book(client, shop, second, TOMORROW_10)
    assert anyone.status_code == 201
    assert anyone.json()["staff_id"] == shop.staff_ids[1]
    assert (await book(client, shop, third, TOMORROW_10)).status_code == 409


async def test_a_service_needing_a_chair_needs_a_free_chair(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=2, chairs=1)
    first, second = await customer(client), await customer(client)
    assert (await book(client, shop, first, TOMORROW_10)).json()["resource_ids"] == shop.chair_ids
    # A barber is free, the only chair is not.
    assert (await book(client, shop, second, TOMORROW_10)).status_code == 409
    slots = {s["starts_at_local"] for s in await _slots(client, shop, second)}
    assert TOMORROW_10 not in slots
    assert "2026-11-25T10:45:00+02:00" in slots  # the chair is free again after the cut and its buffer


async def test_a_chair_on_time_off_is_not_offered_nor_booked_even_without_hours_of_its_own(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_bookable_shop(client, barbers=1, chairs=1)
    mona = await customer(client)
    away = {"starts_at": "2026-11-25T09:00:00+02:00", "ends_at": "2026-11-25T12:00:00+02:00"}
    assert TOMORROW_10 in {s["starts_at_local"] for s in await _slots(client, shop, mona)}
    repairs = await client.post(
        f"{shop.url}/resources/{shop.chair_ids[0]}/time-off", headers=shop.owner.headers, json=away
    )
    assert repairs.status_code == 201, repairs.text
    assert TOMORROW_10 not in {s["starts_at_local"] for s in await _slots(client, shop, mona)}
    assert (await book(client, shop, mona, TOMORROW_10)).status_code == 409


async def test_rules_answer_422_naming_the_rule(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    cases = {
        "2026-11-25T10:07:00+02:00": "off_grid",
        "2026-11-20T10:00:00+02:00": "in_past",
        "2027-06-01T10:00:00+03:00": "beyond_horizon",
        "2026-11-25T20:00:00+02:00": "outside_hours",
    }
    for starts_at, rule in cases.items():
        response = await book(client, shop, mona, starts_at)
        assert response.status_code == 422, (starts_at, response.text)
        assert response.json()["errors"][0] == {
            "field": "body.starts_at",
            "rule": rule,
            "message": response.json()["errors"][0]["message"],
        }
    bad_duration = await book(client, shop, mona, TOMORROW_10, duration_minutes=50)
    assert bad_duration.json()["errors"][0]["rule"] == "invalid_duration"
    unknown = await client.post(
        f"{shop.url}/bookings",
        headers=mona.headers,
        json={"service_id": shop.staff_ids[0], "starts_at": TOMORROW_10},
    )
    assert unknown.json()["errors"][0]["rule"] == "unknown_service"


async def test_every_offered_slot_is_bookable(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1, chairs=1)
    mona = await customer(client)
    offered = await _slots(client, shop, mona)
    assert offered
    for slot in offered[::6]:  # every 6th start: 90 minutes apart, so none blocks another
        # (A customer of their own each: one may book only a few starts a day.)
        response = await book(client, shop, await customer(client), str(slot["starts_at"]))
        assert response.status_code == 201, (slot["starts_at"], response.text)


async def test_deposit_business_holds_until_paid_and_a_lapsed_hold_frees_the_slot(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    shop = await open_bookable_shop(client, business_type="consultant", barbers=1, durations=[60])
    mona, omar = await customer(client), await customer(client)
    start = "2026-11-26T10:00:00+02:00"  # the consultant type needs 12 hours' notice
    no_method = await book(client, shop, mona, start, extra_fields={"topic": "Growth"})
    assert no_method.json()["errors"][0]["rule"] == "payment_method_required"
    held = await book(client, shop, mona, start, payment_method="card", extra_fields={"topic": "Growth"})
    assert held.status_code == 201, held.text
    assert held.json()["status"] == "held"
    assert (
        await book(client, shop, omar, start, payment_method="card", extra_fields={"topic": "Exit"})
    ).status_code == 409

    clock.advance(timedelta(minutes=16))  # the card hold lasts 15 minutes (and so do tokens)
    mona, omar = (
        await log_in(client, mona.email, mona.user_id),
        await log_in(client, omar.email, omar.user_id),
    )
    taken = await book(client, shop, omar, start, payment_method="card", extra_fields={"topic": "Exit"})
    assert taken.status_code == 201, taken.text
    lapsed = await client.get(f"{shop.url}/bookings/{held.json()['id']}", headers=mona.headers)
    assert lapsed.json()["status"] == "expired"


async def test_intake_fields_are_validated_by_the_type_schema(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, business_type="consultant", barbers=1, durations=[60])
    mona = await customer(client)
    response = await book(client, shop, mona, "2026-11-26T10:00:00+02:00", payment_method="card")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "extra_fields.topic"


async def test_lifecycle_moves_only_along_the_graph_with_versions(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    booking = (await book(client, shop, mona, TOMORROW_10)).json()
    url = f"{shop.url}/bookings/{booking['id']}"
    clock.advance(timedelta(hours=22, minutes=55))  # 09:55 tomorrow: check-in is open, then the start
    mona = await log_in(client, mona.email, mona.user_id)
    owner = (await log_in(client, shop.owner.email, shop.owner.user_id)).headers
    assert (await client.post(f"{url}/complete", headers=owner)).json()["code"] == "invalid_transition"
    stale = await client.post(f"{url}/check-in", headers={**owner, "If-Match": '"7"'})
    assert stale.status_code == 412
    checked_in = await client.post(f"{url}/check-in", headers={**owner, "If-Match": '"1"'})
    assert checked_in.status_code == 200
    assert (checked_in.json()["status"], checked_in.headers["etag"]) == ("checked_in", '"2"')
    assert (await client.post(f"{url}/check-in", headers=mona.headers)).status_code == 403
    clock.advance(timedelta(minutes=5))
    done = await client.post(f"{url}/complete", headers=owner)
    assert (done.json()["status"], done.json()["version"]) == ("completed", 3)


async def test_cancellation_policy(client: httpx.AsyncClient, clock: FakeClock) -> None:
    shop = await open_bookable_shop(client, barbers=2)
    mona, omar = await customer(client), await customer(client)
    early = (await book(client, shop, mona, TOMORROW_10)).json()
    late = (await book(client, shop, omar, TOMORROW_10)).json()
    cancelled = await client.post(f"{shop.url}/bookings/{early['id']}/cancel", headers=mona.headers)
    assert cancelled.json()["cancellation"] == {
        "by": "customer",
        "within_free_window": True,
        "refund_percent": 100,
        "refundable": True,
        "refund_minor": None,  # nothing was paid online
        "desk_refund_due_minor": 0,
    }
    assert TOMORROW_10 in {s["starts_at_local"] for s in await _slots(client, shop, mona)}

    clock.advance(timedelta(hours=23, minutes=30))  # 10:30 tomorrow minus 60 min window has passed
    omar = await log_in(client, omar.email, omar.user_id)
    shop_owner = await log_in(client, shop.owner.email, shop.owner.user_id)
    too_late = await client.post(f"{shop.url}/bookings/{late['id']}/cancel", headers=omar.headers)
    assert too_late.status_code == 409
    assert too_late.json()["code"] == "cancellation_window_passed"
    by_shop = await client.post(f"{shop.url}/bookings/{late['id']}/cancel", headers=shop_owner.headers)
    assert by_shop.json()["cancellation"]["by"] == "business"
    assert by_shop.json()["cancellation"]["refund_percent"] == 100


async def test_a_type_allowing_late_cancellation_says_what_it_gives_back(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    allowed = await client.patch(
        shop.url, headers=shop.owner.headers, json={"rule_overrides": {"late_cancellation_refund_percent": 0}}
    )
    assert allowed.status_code == 200, allowed.text
    mona = await customer(client)
    booking = (await book(client, shop, mona, TOMORROW_10)).json()
    clock.advance(timedelta(hours=23, minutes=30))  # inside the 60-minute window before 10:00
    mona = await log_in(client, mona.email, mona.user_id)
    cancelled = await client.post(f"{shop.url}/bookings/{booking['id']}/cancel", headers=mona.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancellation"] == {
        "by": "customer",
        "within_free_window": False,
        "refund_percent": 0,
        "refundable": False,
        "refund_minor": None,
        "desk_refund_due_minor": 0,
    }
    moved = await client.post(
        f"{shop.url}/bookings/{booking['id']}/reschedule",
        headers=mona.headers,
        json={"starts_at": TOMORROW_10},
    )
    assert moved.status_code == 409  # cancelled; and a late move is refused like a late free cancel


async def test_a_customer_cannot_see_anothers_booking(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    mona, omar = await customer(client), await customer(client)
    booking = (await book(client, shop, mona, TOMORROW_10)).json()
    statuses = Counter(
        [
            (await client.get(f"{shop.url}/bookings/{booking['id']}", headers=omar.headers)).status_code,
            (
                await client.post(f"{shop.url}/bookings/{booking['id']}/cancel", headers=omar.headers)
            ).status_code,
        ]
    )
    assert statuses == {404: 2}


async def test_reschedule_is_atomic_and_may_overlap_its_own_old_time(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    mona, omar = await customer(client), await customer(client)
    booking = (await book(client, shop, mona, TOMORROW_10)).json()
    other = (await book(client, shop, omar, "2026-11-25T12:00:00+02:00")).json()
    url = f"{shop.url}/bookings/{booking['id']}/reschedule"

    # Fifteen minutes later overlaps only its own old time: allowed.
    moved = await client.post(url, headers=mona.headers, json={"starts_at": "2026-11-25T10:15:00+02:00"})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["starts_at"], moved.json()["version"]) == ("2026-11-25T08:15:00Z", 2)
    # 09:30 (blocking to 10:05) was cut off by the old 10:00 start and is free again.
    assert "2026-11-25T09:30:00+02:00" in {s["starts_at_local"] for s in await _slots(client, shop, mona)}

    # Onto Omar's time: refused, and nothing changed.
    clash = await client.post(url, headers=mona.headers, json={"starts_at": other["starts_at"]})
    assert clash.status_code == 409
    unchanged = (await client.get(f"{shop.url}/bookings/{booking['id']}", headers=mona.headers)).json()
    assert (unchanged["starts_at"], unchanged["version"]) == ("2026-11-25T08:15:00Z", 2)
    offered = {s["starts_at_local"] for s in await _slots(client, shop, mona)}
    assert "2026-11-25T10:15:00+02:00" not in offered

    stale = await client.post(
        url, headers={**mona.headers, "If-Match": '"1"'}, json={"starts_at": "2026-11-25T14:00:00+02:00"}
    )
    assert stale.status_code == 412


async def test_staff_book_for_the_business_customers_only(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    for account_id in (uuid.uuid4(), mona.user_id):  # no account; one that never booked here
        unknown = await book(client, shop, shop.owner, TOMORROW_10, customer_id=str(account_id))
        assert unknown.status_code == 422
        issue = unknown.json()["errors"][0]
        assert (issue["field"], issue["rule"]) == ("body.customer_id", "unknown_customer")
    assert (await book(client, shop, mona, "2026-11-25T12:00:00+02:00")).status_code == 201
    for_mona = await book(client, shop, shop.owner, TOMORROW_10, customer_id=str(mona.user_id))
    assert for_mona.status_code == 201, for_mona.text
    assert for_mona.json()["customer_id"] == str(mona.user_id)


async def test_a_booking_that_needs_payment_is_never_confirmed_by_hand(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    shop = await open_bookable_shop(client, business_type="consultant", barbers=1, durations=[60])
    mona = await customer(client)
    start = "2026-11-26T10:00:00+02:00"
    held = await book(client, shop, mona, start, payment_method="card", extra_fields={"topic": "Growth"})
    assert held.json()["status"] == "held"
    url = f"{shop.url}/bookings/{held.json()['id']}"
    by_hand = await client.post(f"{url}/confirm", headers=shop.owner.headers)
    assert by_hand.status_code == 409
    assert by_hand.json()["code"] == "payment_required"
    assert (await client.get(url, headers=mona.headers)).json()["status"] == "held"

    clock.advance(timedelta(minutes=16))  # the card hold lapses
    owner = await log_in(client, shop.owner.email, shop.owner.user_id)
    moved = await client.post(
        f"{url}/reschedule", headers=owner.headers, json={"starts_at": "2026-11-26T12:00:00+02:00"}
    )
    assert moved.status_code == 409
    assert moved.json()["code"] == "invalid_transition"
