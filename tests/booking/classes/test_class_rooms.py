"""Classes take their room: a series and each of its sessions allocate the instructor
and the resources the service requires, under the exclusion constraint appointments use.
Two classes in one room at one time are impossible (409 naming the room), and a class's
room is blocked for anything else that would take it then. (The clock stands at Tuesday
2026-11-24 11:00 in Cairo.)"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.booking import repository
from booklnk.booking.models import Booking, BookingStatus
from booklnk.db.database import Database
from booklnk.scheduling.intervals import Interval
from support import Account, create_business, sign_up

WEEKLY = "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=4"


@dataclass(frozen=True)
class Studio:
    business_id: uuid.UUID
    owner: Account
    service_id: str
    coaches: list[str]
    rooms: list[str]

    @property
    def base(self) -> str:
        return f"/v1/businesses/{self.business_id}"


async def _post(client: httpx.AsyncClient, owner: Account, path: str, body: dict[str, object]) -> str:
    response = await client.post(path, headers=owner.headers, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def open_studio(client: httpx.AsyncClient, *, rooms: int = 1) -> Studio:
    """A gym whose class service needs a room, with two coaches and `rooms` studios."""
    owner = await sign_up(client, "studio-owner")
    business_id = await create_business(
        client, owner, "gym", rule_overrides={"payment_policy": "pay_at_venue"}
    )
    base = f"/v1/businesses/{business_id}"
    coaches = [await _post(client, owner, f"{base}/staff", {"display_name": f"Coach {i}"}) for i in range(2)]
    names = [
        await _post(client, owner, f"{base}/resources", {"name": f"Studio {chr(65 + i)}", "kind": "room"})
        for i in range(rooms)
    ]
    service = {"name": "Spin", "price_minor": 20_000, "capacity": 10, "duration_options_minutes": [60]}
    service_id = await _post(
        client, owner, f"{base}/services", service | {"required_resource_kinds": ["room"]}
    )
    return Studio(business_id, owner, service_id, coaches, names)


async def _publish(client: httpx.AsyncClient, studio: Studio, coach: int, **extra: object) -> httpx.Response:
    body = {
        "service_id": studio.service_id,
        "staff_id": studio.coaches[coach],
        "rrule": WEEKLY,
        "starts_on": "2026-11-24",
        "start_time": "18:00",
        **extra,
    }
    return await client.post(f"{studio.base}/class-series", headers=studio.owner.headers, json=body)


async def test_two_classes_in_one_room_at_one_time_are_refused_naming_the_room(
    client: httpx.AsyncClient,
) -> None:
    studio = await open_studio(client)
    first = await _publish(client, studio, 0)
    assert first.status_code == 201, first.text
    # The only studio is taken without being named, and every session shows it.
    assert first.json()["series"]["resource_ids"] == studio.rooms
    assert {tuple(s["resource_ids"]) for s in first.json()["sessions"]} == {tuple(studio.rooms)}
    # Another coach, the same studio, an overlapping hour.
    second = await _publish(client, studio, 1, start_time="18:30")
    assert second.status_code == 409, second.text
    assert (second.json()["code"], second.json()["resource_id"]) == ("resource_busy", studio.rooms[0])
    assert "Studio A" in second.json()["detail"]
    # Right after the first class is free.
    assert (await _publish(client, studio, 1, start_time="19:00")).status_code == 201


async def test_one_coach_cannot_teach_in_two_rooms_at_once(client: httpx.AsyncClient) -> None:
    studio = await open_studio(client, rooms=2)
    ambiguous = await _publish(client, studio, 0)
    assert (ambiguous.status_code, ambiguous.json()["errors"][0]["rule"]) == (422, "resource_required")
    assert (await _publish(client, studio, 0, resource_ids=[studio.rooms[0]])).status_code == 201
    busy = await _publish(client, studio, 0, resource_ids=[studio.rooms[1]])
    assert (busy.status_code, busy.json()["code"]) == (409, "instructor_busy")
    other_coach = await _publish(client, studio, 1, resource_ids=[studio.rooms[1]])
    assert other_coach.status_code == 201, other_coach.text
    unknown = await _publish(client, studio, 1, resource_ids=[str(uuid.uuid4())], start_time="07:00")
    assert (unknown.status_code, unknown.json()["errors"][0]["rule"]) == (422, "unknown_resource")


async def test_a_session_moved_onto_a_taken_room_is_refused_and_a_cancelled_one_frees_it(
    client: httpx.AsyncClient,
) -> None:
    studio = await open_studio(client, rooms=2)
    evening = (await _publish(client, studio, 0, resource_ids=[studio.rooms[0]])).json()["sessions"][0]
    later = (await _publish(client, studio, 1, resource_ids=[studio.rooms[1]], start_time="20:00")).json()[
        "sessions"
    ][0]
    path = f"{studio.base}/class-sessions/{later['id']}"
    onto_a = await client.patch(
        path,
        headers=studio.owner.headers,
        json={"resource_ids": [studio.rooms[0]], "starts_at": evening["starts_at"]},
    )
    assert (onto_a.status_code, onto_a.json()["code"]) == (409, "resource_busy")
    unchanged = await client.get(path, headers=studio.owner.headers)
    assert (unchanged.json()["resource_ids"], unchanged.json()["starts_at"]) == (
        [studio.rooms[1]],
        later["starts_at"],
    )
    cancelled = await client.post(
        f"{studio.base}/class-sessions/{evening['id']}/cancel", headers=studio.owner.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    moved = await client.patch(
        path,
        headers=studio.owner.headers,
        json={"resource_ids": [studio.rooms[0]], "starts_at": evening["starts_at"]},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["resource_ids"] == [studio.rooms[0]]


async def test_a_class_blocks_its_room_for_an_appointment_through_the_same_constraint(
    client: httpx.AsyncClient, db: Database, owner_engine: AsyncEngine
) -> None:
    """A business books either appointments or classes, so over HTTP one never meets the
    other; what keeps them apart is the one constraint both write through. An appointment
    placed by the booking writer on the class's room at the class's time is refused."""
    studio = await open_studio(client)
    session = (await _publish(client, studio, 0)).json()["sessions"][0]
    async with owner_engine.connect() as conn:
        room_lane, coach_lane = (
            await conn.scalar(text("SELECT lane FROM resource WHERE id = :id"), {"id": studio.rooms[0]}),
            await conn.scalar(
                text("SELECT lane FROM staff_member WHERE id = :id"), {"id": studio.coaches[1]}
            ),
        )
    starts = datetime.fromisoformat(session["starts_at"].replace("Z", "+00:00"))
    ends = datetime.fromisoformat(session["ends_at"].replace("Z", "+00:00"))
    booking = Booking(
        business_id=studio.business_id,
        id=uuid.uuid4(),
        customer_id=studio.owner.user_id,
        guest_name=None,
        service_id=uuid.UUID(studio.service_id),
        staff_id=uuid.UUID(studio.coaches[1]),
        session_id=None,
        status=BookingStatus.CONFIRMED,
        starts_at=starts,
        ends_at=ends,
        hold_expires_at=None,
        payment_method=None,
        price_minor=0,
        deposit_minor=0,
        currency="EGP",
        extra_fields={},
        version=1,
    )

    def placement(room: bool) -> repository.Placement:
        return repository.Placement(
            business_id=studio.business_id,
            booking_id=booking.id,
            staff_id=uuid.UUID(studio.coaches[1]),
            resource_ids=[uuid.UUID(studio.rooms[0])] if room else [],
            lanes=[coach_lane, room_lane] if room else [coach_lane],
            blocked=Interval(starts, ends),
        )

    audit = repository.Audit(None, starts)
    async with db.transaction(tenant_id=studio.business_id) as session_:
        refused = await repository.placed(
            session_, lambda: repository.insert_booking(session_, booking, placement(room=True), audit)
        )
        # The other coach, without the room, is free then: the refusal was the room's.
        taken = await repository.placed(
            session_, lambda: repository.insert_booking(session_, booking, placement(room=False), audit)
        )
    assert (refused, taken) == (False, True)
