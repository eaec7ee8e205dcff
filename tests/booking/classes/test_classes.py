"""Class sessions over HTTP: publishing (RRULE, local time), seats, edits and
cancellations, the waitlist and its promotion by the real worker."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from class_support import Gym, open_gym, publish, take_seat
from support import FakeClock, JobRunner, create_business, sign_up

# Shorter than an access token's 15 minutes, so the test's tokens outlive the holds.
CHECKOUT_WINDOW = timedelta(minutes=10)
HOLDS = {"checkout_hold_minutes": 10}


async def _session(client: httpx.AsyncClient, gym: Gym, session_id: str) -> dict[str, Any]:
    response = await client.get(f"{gym.base}/class-sessions/{session_id}", headers=gym.owner.headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def _fill(client: httpx.AsyncClient, gym: Gym, session_id: str, seats: int, **body: Any) -> list[str]:
    ids = []
    for _ in range(seats):
        response = await take_seat(client, gym, session_id, await sign_up(client, "member"), **body)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


async def test_a_series_publishes_its_occurrences_at_local_time(client: httpx.AsyncClient) -> None:
    gym = await open_gym(client)
    created = await publish(client, gym)
    starts = [s["starts_at_local"] for s in created["sessions"]]
    assert starts == [
        "2026-11-24T18:00:00+02:00",
        "2026-11-26T18:00:00+02:00",
        "2026-12-01T18:00:00+02:00",
        "2026-12-03T18:00:00+02:00",
        "2026-12-08T18:00:00+02:00",
        "2026-12-10T18:00:00+02:00",
    ]
    assert {s["seats_left"] for s in created["sessions"]} == {3}
    assert created["sessions"][0]["starts_at"] == "2026-11-24T16:00:00Z"
    assert created["sessions"][0]["time_zone"] == "Africa/Cairo"


async def test_availability_of_a_class_business_lists_its_sessions(client: httpx.AsyncClient) -> None:
    gym = await open_gym(client, pay_at_venue=True)
    created = await publish(client, gym)
    first = created["sessions"][0]["id"]
    await _fill(client, gym, first, 2)
    customer = await sign_up(client, "customer")
    response = await client.get(
        f"{gym.base}/availability",
        headers=customer.headers,
        params={
            "service_id": gym.service_id,
            "from": "2026-11-24T00:00:00+02:00",
            "to": "2026-11-28T00:00:00+02:00",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mode"] == "class"
    assert [(s["id"], s["seats_left"]) for s in body["sessions"]] == [
        (first, 1),
        (created["sessions"][1]["id"], 3),
    ]


async def test_bad_rules_answer_422_naming_the_field(client: httpx.AsyncClient) -> None:
    gym = await open_gym(client)
    for rule, code in [
        ("FREQ=HOURLY", "frequency_not_allowed"),
        ("FREQ=WEEKLY;BYHOUR=9", "time_in_rule"),
        ("FREQ=WEEKLY;BYDAY=XX", "rrule_syntax"),
        ("FREQ=WEEKLY;UNTIL=20261101", "no_occurrences"),
    ]:
        response = await client.post(
            f"{gym.base}/class-series",
            headers=gym.owner.headers,
            json={
                "service_id": gym.service_id,
                "staff_id": gym.staff_id,
                "rrule": rule,
                "starts_on": "2026-11-24",
                "start_time": "18:00",
            },
        )
        assert response.status_code == 422, (rule, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [("body.rrule", code)]


async def test_an_appointment_business_has_no_classes(client: httpx.AsyncClient) -> None:
    owner = await sign_up(client, "barber")
    shop = await create_business(client, owner)
    staff = await client.post(
        f"/v1/businesses/{shop}/staff", headers=owner.headers, json={"display_name": "B"}
    )
    service = await client.post(
        f"/v1/businesses/{shop}/services", headers=owner.headers, json={"name": "Cut", "price_minor": 1}
    )
    response = await client.post(
        f"/v1/businesses/{shop}/class-series",
        headers=owner.headers,
        json={
            "service_id": service.json()["id"],
            "staff_id": staff.json()["id"],
            "rrule": "FREQ=DAILY",
            "starts_on": "2026-11-24",
            "start_time": "18:00",
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["rule"] == "class_mode_only"


async def test_an_instructor_cannot_teach_two_overlapping_sessions(client: httpx.AsyncClient) -> None:
    gym = await open_gym(client)
    await publish(client, gym)
    response = await client.post(
        f"{gym.base}/class-series",
        headers=gym.owner.headers,
        json={
            "service_id": gym.service_id,
            "staff_id": gym.staff_id,
            "rrule": "FREQ=WEEKLY;BYDAY=TH;COUNT=2",
            "starts_on": "2026-11-24",
            "start_time": "18:30",
        },
    )
    assert response.status_code == 409
    assert response.json()["code"] == "instructor_busy"


async def test_seats_run_out_then_the_waitlist_is_promoted_in_order_exactly_once(
    client: httpx.AsyncClient, run_jobs: JobRunner, owner_engine: AsyncEngine
) -> None:
    gym = await open_gym(client, pay_at_venue=True)
    session_id = (await publish(client, gym))["sessions"][1]["id"]
    first, *_ = await _fill(client, gym, session_id, 3)
    late = await sign_up(client, "late")
    full = await take_seat(client, gym, session_id, late)
    assert full.status_code == 409
    assert full.json()["code"] == "session_full"
    assert full.json()["waitlist"].endswith(f"/class-sessions/{session_id}/waitlist")

    waiters = [await sign_up(client, f"waiter{i}") for i in range(2)]
    places = []
    for waiter in waiters:
        joined = await client.post(
            f"{gym.base}/class-sessions/{session_id}/waitlist", headers=waiter.headers, json={}
        )
        assert joined.status_code == 201, joined.text
        places.append(joined.json()["place"])
    assert places == [1, 2]
    again = await client.post(
        f"{gym.base}/class-sessions/{session_id}/waitlist", headers=waiters[0].headers, json={}
    )
    assert again.json()["code"] == "already_waiting"

    cancelled = await client.post(f"{gym.base}/bookings/{first}/cancel", headers=gym.owner.headers)
    assert cancelled.status_code == 200, cancelled.text
    # The freed seat is promised to the line: a newcomer cannot take it.
    assert (await take_seat(client, gym, session_id, late)).json()["code"] == "session_full"

    await run_jobs()
    await run_jobs()  # a second run (a duplicate job) promotes nobody else
    line = await client.get(f"{gym.base}/class-sessions/{session_id}/waitlist", headers=gym.owner.headers)
    assert [(e["customer_id"], e["status"]) for e in line.json()["items"]] == [
        (str(waiters[0].user_id), "promoted"),
        (str(waiters[1].user_id), "waiting"),
    ]
    promoted = await client.get(
        f"{gym.base}/bookings/{line.json()['items'][0]['booking_id']}", headers=waiters[0].headers
    )
    assert promoted.json()["status"] == "confirmed"
    assert promoted.json()["session_id"] == session_id
    assert (await _session(client, gym, session_id))["seats_taken"] == 3
    async with owner_engine.connect() as conn:
        counted = await conn.scalar(
            text(
                "SELECT count(*) FROM booking WHERE session_id = :s"
                " AND status IN ('held', 'confirmed', 'checked_in', 'completed')"
            ),
            {"s": session_id},
        )
    assert counted == 3


async def test_a_lapsed_hold_frees_its_seat_and_the_promoted_customer_gets_a_hold(
    client: httpx.AsyncClient, run_jobs: JobRunner, clock: FakeClock
) -> None:
    gym = await open_gym(client, capacity=1, **HOLDS)  # prepay: seats are held until paid
    session_id = (await publish(client, gym))["sessions"][1]["id"]
    (held_id,) = await _fill(client, gym, session_id, 1, payment_method="card")
    waiter = await sign_up(client, "waiter")
    joined = await client.post(
        f"{gym.base}/class-sessions/{session_id}/waitlist",
        headers=waiter.headers,
        json={"payment_method": "fawry"},
    )
    assert joined.status_code == 201, joined.text

    clock.advance(CHECKOUT_WINDOW + timedelta(minutes=1))
    await run_jobs()  # the hold's own expiry job
    held = await client.get(f"{gym.base}/bookings/{held_id}", headers=gym.owner.headers)
    assert held.json()["status"] == "expired"
    line = (
        await client.get(f"{gym.base}/class-sessions/{session_id}/waitlist", headers=gym.owner.headers)
    ).json()["items"]
    assert line[0]["status"] == "promoted"
    promoted = (
        await client.get(f"{gym.base}/bookings/{line[0]['booking_id']}", headers=waiter.headers)
    ).json()
    assert promoted["status"] == "held"
    assert promoted["payment_method"] == "fawry"
    # Held for the checkout window like any new hold: Fawry's day starts only once a
    # reference is issued (the gateway reports the payment pending).
    assert promoted["hold_expires_at"] == (clock.now() + CHECKOUT_WINDOW).isoformat().replace("+00:00", "Z")


async def test_the_sweep_expires_a_hold_whose_job_ran_early(
    client: httpx.AsyncClient, run_jobs: JobRunner, clock: FakeClock
) -> None:
    gym = await open_gym(client, capacity=1, **HOLDS)
    session_id = (await publish(client, gym))["sessions"][1]["id"]
    (held_id,) = await _fill(client, gym, session_id, 1, payment_method="card")
    await run_jobs()  # the expiry job runs, but by our clock nothing has lapsed
    held = await client.get(f"{gym.base}/bookings/{held_id}", headers=gym.owner.headers)
    assert held.json()["status"] == "held"
    clock.advance(CHECKOUT_WINDOW + timedelta(minutes=1))
    await run_jobs()  # no job left: the early one did not re-enqueue itself
    assert (await client.get(f"{gym.base}/bookings/{held_id}", headers=gym.owner.headers)).json()[
        "status"
    ] == "held"
    await run_jobs(sweep=True)
    held = await client.get(f"{gym.base}/bookings/{held_id}", headers=gym.owner.headers)
    assert held.json()["status"] == "expired"
    assert (await _session(client, gym, session_id))["seats_taken"] == 0


async def test_a_lapsed_hold_gives_way_to_a_new_customer_at_once(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    gym = await open_gym(client, capacity=1, **HOLDS)
    session_id = (await publish(client, gym))["sessions"][1]["id"]
    (held_id,) = await _fill(client, gym, session_id, 1, payment_method="card")
    clock.advance(CHECKOUT_WINDOW + timedelta(minutes=1))  # no worker has run: the booking itself sweeps
    newcomer = await take_seat(client, gym, session_id, await sign_up(client, "new"), payment_method="card")
    assert newcomer.status_code == 201, newcomer.text
    held = await client.get(f"{gym.base}/bookings/{held_id}", headers=gym.owner.headers)
    assert held.json()["status"] == "expired"
    assert (await _session(client, gym, session_id))["seats_taken"] == 1


async def test_editing_one_occurrence_moves_its_bookings_and_honours_if_match(
    client: httpx.AsyncClient, run_jobs: JobRunner
) -> None:
    gym = await open_gym(client, pay_at_venue=True, capacity=1)
    session_id = (await publish(client, gym))["sessions"][1]["id"]
    (booking_id,) = await _fill(client, gym, session_id, 1)
    waiter = await sign_up(client, "waiter")
    await client.post(f"{gym.base}/class-sessions/{session_id}/waitlist", headers=waiter.headers, json={})
    path = f"{gym.base}/class-sessions/{session_id}"

    too_small = await client.patch(path, headers=gym.owner.headers, json={"capacity": 0})
    assert too_small.status_code == 422
    stale = await client.patch(path, headers={**gym.owner.headers, "If-Match": '"99"'}, json={"capacity": 2})
    assert stale.status_code == 412
    etag = (await client.get(path, headers=gym.owner.headers)).headers["ETag"]
    moved = await client.patch(
        path,
        headers={**gym.owner.headers, "If-Match": etag},
        json={"starts_at": "2026-11-26T19:00:00+02:00", "capacity": 2},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["detached"] is True
    assert moved.json()["starts_at_local"] == "2026-11-26T19:00:00+02:00"
    booking = (await client.get(f"{gym.base}/bookings/{booking_id}", headers=gym.owner.headers)).json()
    assert booking["starts_at"] == "2026-11-26T17:00:00Z"

    await run_jobs()  # the larger capacity goes to the waitlist
    assert (await _session(client, gym, session_id))["seats_taken"] == 2


async def test_cancelling_an_occurrence_or_the_series_cancels_bookings_and_closes_lines(
    client: httpx.AsyncClient,
) -> None:
    gym = await open_gym(client, pay_at_venue=True, capacity=1)
    created = await publish(client, gym)
    first, second = created["sessions"][1]["id"], created["sessions"][2]["id"]
    (booking_id,) = await _fill(client, gym, first, 1)
    waiter = await sign_up(client, "waiter")
    await client.post(f"{gym.base}/class-sessions/{first}/waitlist", headers=waiter.headers, json={})

    cancelled = await client.post(f"{gym.base}/class-sessions/{first}/cancel", headers=gym.owner.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["seats_taken"] == 0
    booking = (await client.get(f"{gym.base}/bookings/{booking_id}", headers=gym.owner.headers)).json()
    assert booking["status"] == "cancelled"
    line = (
        await client.get(f"{gym.base}/class-sessions/{first}/waitlist", headers=gym.owner.headers)
    ).json()["items"]
    assert [e["status"] for e in line] == ["closed"]
    assert (await take_seat(client, gym, first, waiter)).json()["code"] == "session_closed"

    (other,) = await _fill(client, gym, second, 1)
    series_id = created["series"]["id"]
    ended = await client.post(f"{gym.base}/class-series/{series_id}/cancel", headers=gym.owner.headers)
    assert ended.json()["status"] == "cancelled"
    assert (await _session(client, gym, second))["status"] == "cancelled"
    assert (await client.get(f"{gym.base}/bookings/{other}", headers=gym.owner.headers)).json()["status"] == (
        "cancelled"
    )


async def test_a_series_edit_skips_occurrences_edited_alone(client: httpx.AsyncClient) -> None:
    gym = await open_gym(client)
    created = await publish(client, gym)
    alone = created["sessions"][2]["id"]
    await client.patch(f"{gym.base}/class-sessions/{alone}", headers=gym.owner.headers, json={"capacity": 9})
    series_id = created["series"]["id"]
    edited = await client.patch(
        f"{gym.base}/class-series/{series_id}", headers=gym.owner.headers, json={"capacity": 5}
    )
    assert edited.status_code == 200, edited.text
    capacities = [(await _session(client, gym, s["id"]))["capacity"] for s in created["sessions"]]
    assert capacities == [5, 5, 9, 5, 5, 5]


async def test_a_customer_leaves_the_waitlist_but_not_someone_elses(client: httpx.AsyncClient) -> None:
    gym = await open_gym(client, pay_at_venue=True, capacity=1)
    session_id = (await publish(client, gym))["sessions"][1]["id"]
    await _fill(client, gym, session_id, 1)
    waiter, other = await sign_up(client, "waiter"), await sign_up(client, "other")
    entry = (
        await client.post(f"{gym.base}/class-sessions/{session_id}/waitlist", headers=waiter.headers, json={})
    ).json()["id"]
    path = f"{gym.base}/class-sessions/{session_id}/waitlist/{entry}"
    assert (await client.delete(path, headers=other.headers)).status_code == 404
    assert (await client.delete(path, headers=waiter.headers)).status_code == 204
    assert (await client.delete(path, headers=waiter.headers)).status_code == 404


async def test_a_waitlist_is_only_for_full_sessions(client: httpx.AsyncClient) -> None:
    gym = await open_gym(client, pay_at_venue=True)
    session_id = (await publish(client, gym))["sessions"][1]["id"]
    customer = await sign_up(client, "customer")
    response = await client.post(
        f"{gym.base}/class-sessions/{session_id}/waitlist", headers=customer.headers, json={}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "seats_available"


async def test_a_seat_request_is_idempotent_by_key(client: httpx.AsyncClient) -> None:
    gym = await open_gym(client, pay_at_venue=True)
    session_id = (await publish(client, gym))["sessions"][1]["id"]
    customer = await sign_up(client, "customer")
    path = f"{gym.base}/class-sessions/{session_id}/bookings"
    headers = {**customer.headers, "Idempotency-Key": "seat-1"}
    first = await client.post(path, headers=headers, json={})
    again = await client.post(path, headers=headers, json={})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    # The replay says where the seat's booking is, as the first answer did.
    assert (
        again.headers["Location"] == first.headers["Location"] == f"{gym.base}/bookings/{first.json()['id']}"
    )
    assert (await client.get(first.headers["Location"], headers=customer.headers)).status_code == 200
    other = await client.post(path, headers=headers, json={"extra_fields": {"note": "x"}})
    assert other.status_code == 422
    assert (await _session(client, gym, session_id))["seats_taken"] == 1


async def test_a_key_reused_on_another_session_is_422_never_a_replay(client: httpx.AsyncClient) -> None:
    gym = await open_gym(client, pay_at_venue=True)
    created = await publish(client, gym)
    first, second = created["sessions"][1]["id"], created["sessions"][2]["id"]
    customer = await sign_up(client, "customer")
    headers = {**customer.headers, "Idempotency-Key": "seat-on-a"}
    booked = await client.post(f"{gym.base}/class-sessions/{first}/bookings", headers=headers, json={})
    assert booked.status_code == 201, booked.text

    elsewhere = await client.post(f"{gym.base}/class-sessions/{second}/bookings", headers=headers, json={})
    assert elsewhere.status_code == 422, elsewhere.text
    assert "idempotent-replayed" not in elsewhere.headers
    assert (elsewhere.json()["errors"][0]["field"], elsewhere.json()["errors"][0]["rule"]) == (
        "header.Idempotency-Key",
        "key_reused",
    )
    assert (await _session(client, gym, second))["seats_taken"] == 0
    again = await client.post(f"{gym.base}/class-sessions/{first}/bookings", headers=headers, json={})
    assert (again.status_code, again.json()["id"]) == (201, booked.json()["id"])


async def test_only_staff_book_a_seat_for_someone_else(client: httpx.AsyncClient) -> None:
    gym = await open_gym(client, pay_at_venue=True)
    session_id = (await publish(client, gym))["sessions"][1]["id"]
    customer, friend = await sign_up(client, "customer"), await sign_up(client, "friend")
    refused = await take_seat(client, gym, session_id, customer, customer_id=str(friend.user_id))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body.customer_id"
    # Staff book for the gym's customers: an account that has booked there.
    refused = await take_seat(client, gym, session_id, gym.owner, customer_id=str(friend.user_id))
    assert (refused.status_code, refused.json()["errors"][0]["rule"]) == (422, "unknown_customer")
    own = await take_seat(client, gym, session_id, customer)
    assert own.status_code == 201, own.text
    booked = await take_seat(client, gym, session_id, gym.owner, customer_id=str(customer.user_id))
    assert booked.status_code == 201, booked.text
    mine = await client.get("/v1/me/bookings", headers=customer.headers)
    assert {b["id"] for b in mine.json()["items"]} == {own.json()["id"], booked.json()["id"]}


async def test_a_seat_for_an_unknown_account_answers_422(client: httpx.AsyncClient) -> None:
    gym = await open_gym(client, pay_at_venue=True)
    session_id = (await publish(client, gym))["sessions"][1]["id"]
    refused = await take_seat(client, gym, session_id, gym.owner, customer_id=str(uuid.uuid4()))
    assert refused.status_code == 422
    assert (refused.json()["errors"][0]["field"], refused.json()["errors"][0]["rule"]) == (
        "body.customer_id",
        "unknown_customer",
    )
