"""Seats and the waitlist as a state machine, against a model (hypothesis).

Random sequences of bookings, cancellations, joins, departures and promotion runs go
through the real API and the real promotion code on PostgreSQL; after every step the
answers and the database must agree with a few lines of model: seats taken, never over
capacity, equal to the bookings holding them, and the line in first-come order.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from booklnk.booking.classes import enrolment
from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.tenancy.system import system_context
from class_support import Gym, open_gym, publish, take_seat
from support import Account, in_process_api, sign_up

CAPACITY = 2
PEOPLE = 5

Op = tuple[str, int]
ops = st.lists(
    # Listed twice: filling up and queueing are what make the interesting states.
    st.tuples(
        st.sampled_from(["book", "book", "join", "join", "cancel", "leave", "promote"]),
        st.integers(0, PEOPLE - 1),
    ),
    min_size=1,
    max_size=25,
)


@dataclass
class Model:
    seats: list[str] = field(default_factory=list)  # booking ids holding a seat
    owners: dict[str, int] = field(default_factory=dict)  # booking id -> person
    line: list[int] = field(default_factory=list)  # people waiting, first come first

    @property
    def free(self) -> int:
        return CAPACITY - len(self.seats)


@dataclass
class World:
    client: httpx.AsyncClient
    db: Database
    gym: Gym
    session_id: str
    people: list[Account]
    entries: dict[int, str] = field(default_factory=dict)  # person -> their waiting entry


async def _step(world: World, model: Model, op: Op) -> None:
    kind, who = op
    person = world.people[who]
    seat_path = f"{world.gym.base}/class-sessions/{world.session_id}"
    if kind == "book":
        response = await take_seat(world.client, world.gym, world.session_id, person)
        if model.free - len(model.line) > 0:
            assert response.status_code == 201, response.text
            model.seats.append(response.json()["id"])
            model.owners[response.json()["id"]] = who
        else:
            assert (response.status_code, response.json()["code"]) == (409, "session_full")
    elif kind == "cancel" and model.seats:
        booking_id = model.seats[who % len(model.seats)]
        holder = world.people[model.owners[booking_id]]
        response = await world.client.post(
            f"{world.gym.base}/bookings/{booking_id}/cancel", headers=holder.headers
        )
        assert response.status_code == 200, response.text
        model.seats.remove(booking_id)
    elif kind == "join":
        response = await world.client.post(f"{seat_path}/waitlist", headers=person.headers, json={})
        # A free seat not promised to the line comes first (a promotion may be pending).
        if len(model.seats) + len(model.line) < CAPACITY:
            assert response.json()["code"] == "seats_available"
        elif who in model.line:
            assert response.json()["code"] == "already_waiting"
        else:
            assert response.status_code == 201, response.text
            assert response.json()["place"] == len(model.line) + 1
            model.line.append(who)
            world.entries[who] = response.json()["id"]
    elif kind == "leave" and model.line:
        leaver = model.line[who % len(model.line)]
        entry = world.entries.pop(leaver)
        response = await world.client.delete(
            f"{seat_path}/waitlist/{entry}", headers=world.people[leaver].headers
        )
        assert response.status_code == 204, response.text
        model.line.remove(leaver)
    elif kind == "promote":
        async with world.db.transaction(tenant_id=world.gym.business_id) as session:
            ctx = await system_context(session, world.gym.business_id)
            assert ctx is not None
            promoted = await enrolment.promote(session, ctx, uuid.UUID(world.session_id), now=_NOW)
        expected = model.line[: max(0, model.free)]
        assert len(promoted) == len(expected)
        for person_index, booking_id in zip(expected, promoted, strict=True):
            model.seats.append(str(booking_id))
            model.owners[str(booking_id)] = person_index
            world.entries.pop(person_index)
        model.line = model.line[len(expected) :]
    await _check(world, model)


async def _check(world: World, model: Model) -> None:
    async with world.db.transaction(tenant_id=world.gym.business_id) as session:
        row = (
            await session.execute(
                text(
                    "SELECT s.seats_taken, s.capacity,"
                    " (SELECT count(*) FROM booking b WHERE b.business_id = s.business_id"
                    "  AND b.session_id = s.id"
                    "  AND b.status IN ('held', 'confirmed', 'checked_in', 'completed')),"
                    " (SELECT array_agg(w.customer_id ORDER BY w.position) FROM waitlist_entry w"
                    "  WHERE w.business_id = s.business_id AND w.session_id = s.id AND w.status = 'waiting')"
                    " FROM class_session s WHERE s.id = :s"
                ),
                {"s": world.session_id},
            )
        ).one()
    taken, capacity, holding, waiting = row
    assert taken == holding == len(model.seats) <= capacity
    assert list(waiting or []) == [world.people[p].user_id for p in model.line]


_NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


async def _run(database_url: str, app_settings: Settings, sequence: list[Op]) -> None:
    async with in_process_api(database_url, app_settings, _NOW) as (client, db):
        gym = await open_gym(client, pay_at_venue=True, capacity=CAPACITY)
        session_id = (await publish(client, gym))["sessions"][1]["id"]
        people = [await sign_up(client, f"p{i}") for i in range(PEOPLE)]
        world = World(client, db, gym, session_id, people)
        model = Model()
        for op in sequence:
            await _step(world, model, op)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=ops)
def test_seats_and_the_waitlist_follow_the_model(
    database_url: str, settings: Settings, sequence: list[Op]
) -> None:
    asyncio.run(_run(database_url, settings, sequence))
