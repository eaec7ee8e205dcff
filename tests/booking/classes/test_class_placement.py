"""Where a class may be placed, and series edits under optimistic concurrency.

A moved occurrence follows the rules a published one does (the slot grid, the business's
opening hours when it sets any), and so do the sessions a series start-time edit moves
(with their bookings); a series carries a version: `ETag` on its answers,
`If-Match` honoured with 412 on a stale one, like occurrences."""

from __future__ import annotations

from typing import Any

import httpx

from class_support import Gym, open_gym, publish, take_seat
from support import sign_up

# The suite's clock: Tuesday 2026-11-24, 11:00 in Cairo. The gym's grid is 30 minutes.
TWO_DAYS_ON = "2026-11-26"


async def _open_from_8_to_21(client: httpx.AsyncClient, gym: Gym) -> None:
    week = {"hours": [{"weekday": d, "start": "08:00", "end": "21:00"} for d in range(7)], "breaks": []}
    response = await client.put(f"{gym.base}/weekly-schedule", headers=gym.owner.headers, json=week)
    assert response.status_code == 200, response.text


async def _session(client: httpx.AsyncClient, gym: Gym, session_id: str) -> dict[str, Any]:
    response = await client.get(f"{gym.base}/class-sessions/{session_id}", headers=gym.owner.headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _issue(response: httpx.Response) -> tuple[int, str, str]:
    issue = response.json()["errors"][0]
    return response.status_code, issue["field"], issue["rule"]


async def _move(client: httpx.AsyncClient, gym: Gym, session_id: str, local_time: str) -> httpx.Response:
    body = {"starts_at": f"{TWO_DAYS_ON}T{local_time}:00+02:00"}
    return await client.patch(f"{gym.base}/class-sessions/{session_id}", headers=gym.owner.headers, json=body)


async def test_a_moved_occurrence_stays_on_the_grid_and_inside_opening_hours(
    client: httpx.AsyncClient,
) -> None:
    gym = await open_gym(client)
    await _open_from_8_to_21(client, gym)
    session_id = (await publish(client, gym))["sessions"][1]["id"]  # Thursday 18:00-19:00

    assert _issue(await _move(client, gym, session_id, "18:10")) == (422, "body.starts_at", "off_grid")
    assert _issue(await _move(client, gym, session_id, "20:30")) == (422, "body.starts_at", "outside_hours")
    assert _issue(await _move(client, gym, session_id, "07:30")) == (422, "body.starts_at", "outside_hours")
    moved = await _move(client, gym, session_id, "20:00")  # ends at 21:00, as the business closes
    assert moved.status_code == 200, moved.text
    assert moved.json()["starts_at_local"] == f"{TWO_DAYS_ON}T20:00:00+02:00"


async def test_a_moved_occurrence_of_a_business_without_hours_only_needs_the_grid(
    client: httpx.AsyncClient,
) -> None:
    gym = await open_gym(client)
    session_id = (await publish(client, gym))["sessions"][1]["id"]
    assert _issue(await _move(client, gym, session_id, "06:45")) == (422, "body.starts_at", "off_grid")
    assert (await _move(client, gym, session_id, "06:30")).status_code == 200


async def test_a_series_is_published_on_the_grid_and_inside_opening_hours(client: httpx.AsyncClient) -> None:
    gym = await open_gym(client)
    await _open_from_8_to_21(client, gym)
    body: dict[str, Any] = {
        "service_id": gym.service_id,
        "staff_id": gym.staff_id,
        "rrule": "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=4",
        "starts_on": "2026-11-24",
    }
    path = f"{gym.base}/class-series"
    off_grid = await client.post(path, headers=gym.owner.headers, json={**body, "start_time": "18:15"})
    assert _issue(off_grid) == (422, "body.start_time", "off_grid")
    late = await client.post(path, headers=gym.owner.headers, json={**body, "start_time": "20:30"})
    assert _issue(late) == (422, "body.start_time", "outside_hours")
    fits = await client.post(path, headers=gym.owner.headers, json={**body, "start_time": "20:00"})
    assert fits.status_code == 201, fits.text


async def test_series_edits_and_cancellation_honour_if_match(client: httpx.AsyncClient) -> None:
    gym = await open_gym(client)
    created = await publish(client, gym)
    path = f"{gym.base}/class-series/{created['series']['id']}"
    first_version = created["series"]["version"]

    edited = await client.patch(
        path, headers={**gym.owner.headers, "If-Match": f'"{first_version}"'}, json={"capacity": 5}
    )
    assert edited.status_code == 200, edited.text
    assert edited.headers["ETag"] == f'"{edited.json()["version"]}"'
    assert edited.json()["version"] == first_version + 1

    stale = {**gym.owner.headers, "If-Match": f'"{first_version}"'}
    refused = await client.patch(path, headers=stale, json={"capacity": 7})
    assert (refused.status_code, refused.json()["code"]) == (412, "version_mismatch")
    assert (await client.post(f"{path}/cancel", headers=stale)).status_code == 412
    sessions = await client.get(
        f"{gym.base}/class-sessions",
        headers=gym.owner.headers,
        params={"from": "2026-11-24T00:00:00+02:00", "to": "2026-12-20T00:00:00+02:00"},
    )
    assert {(s["capacity"], s["status"]) for s in sessions.json()["items"]} == {(5, "scheduled")}

    current = {**gym.owner.headers, "If-Match": edited.headers["ETag"]}
    ended = await client.post(f"{path}/cancel", headers=current)
    assert (ended.status_code, ended.json()["status"]) == (200, "cancelled")
    assert ended.headers["ETag"] == f'"{first_version + 2}"'


async def test_a_series_start_time_edit_moves_its_future_sessions_and_their_bookings(
    client: httpx.AsyncClient,
) -> None:
    gym = await open_gym(client, pay_at_venue=True)
    created = await publish(client, gym)  # Tue/Thu 18:00 from today (Tuesday), six sessions
    ids = [s["id"] for s in created["sessions"]]
    customer = await sign_up(client, "member")
    seat = await take_seat(client, gym, ids[1], customer)
    assert seat.status_code == 201, seat.text
    alone = await client.patch(
        f"{gym.base}/class-sessions/{ids[2]}", headers=gym.owner.headers, json={"capacity": 9}
    )
    assert alone.status_code == 200, alone.text
    path = f"{gym.base}/class-series/{created['series']['id']}"

    off_grid = await client.patch(path, headers=gym.owner.headers, json={"start_time": "19:45"})
    assert _issue(off_grid) == (422, "body.start_time", "off_grid")
    past = await client.patch(
        path, headers=gym.owner.headers, json={"start_time": "10:00"}
    )  # today's at 10:00
    assert _issue(past) == (422, "body.start_time", "in_the_past")
    moved = await client.patch(path, headers=gym.owner.headers, json={"start_time": "19:30"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["start_time"] == "19:30:00"

    starts = [(await _session(client, gym, i))["starts_at_local"][5:16] for i in ids]
    assert starts == [
        "11-24T19:30",
        "11-26T19:30",
        "12-01T18:00",
        "12-03T19:30",
        "12-08T19:30",
        "12-10T19:30",
    ]
    booking = await client.get(f"{gym.base}/bookings/{seat.json()['id']}", headers=customer.headers)
    assert (booking.json()["starts_at"], booking.json()["ends_at"]) == (
        "2026-11-26T17:30:00Z",
        "2026-11-26T18:30:00Z",
    )
    assert booking.json()["version"] == seat.json()["version"] + 1
