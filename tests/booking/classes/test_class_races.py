"""The last seats of a class, raced for by 200 customers through two server processes.

Seats are a counter taken by compare-and-swap on the session's version (CHECK-backed),
so whatever the interleaving, each session ends with exactly its capacity taken, one
booking row per winner, and every loser told 409 `session_full`. A SQL audit after each
round compares the counters with the bookings that hold seats.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from race_support import (
    WORKERS,
    LiveServer,
    assert_every_worker_served,
    booking_copies,
    database_clock,
    overlapping_allocations,
    race_client,
    running_job_workers,
    running_server,
    sign_up_many,
    statuses,
)
from support import Account, sign_up

CLIENTS = 200
ROUNDS = 3
CAPACITY = 12
PREFILLED = 7  # so the race is for the last 5 seats


@pytest.fixture(scope="module")
def live_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with running_server(database_url, tmp_path_factory) as server:
        yield server


@pytest.fixture(scope="module")
async def http(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with race_client(live_server, CLIENTS) as client:
        yield client


@dataclass(frozen=True)
class RaceGym:
    business_id: uuid.UUID
    owner: Account
    service_id: str
    staff_id: str
    session_ids: list[str]
    customers: list[Account]

    @property
    def url(self) -> str:
        return f"/v1/businesses/{self.business_id}"


async def _call(http: httpx.AsyncClient, who: Account, path: str, body: object) -> dict[str, object]:
    response = await http.post(path, headers=who.headers, json=body)
    assert response.status_code == 201, f"{path}: {response.status_code} {response.text}"
    data: dict[str, object] = response.json()
    return data


@pytest.fixture(scope="module")
async def gym(http: httpx.AsyncClient) -> RaceGym:
    """A gym paid at the door, one daily class a few days ahead (real clock) per round."""
    owner = await sign_up(http, "gym-owner")
    slug = f"race-gym-{uuid.uuid4().hex[:8]}"
    business = await _call(
        http,
        owner,
        "/v1/businesses",
        {
            "name": "Race Gym",
            "slug": slug,
            "business_type": "gym",
            "rule_overrides": {"payment_policy": "pay_at_venue"},
        },
    )
    url = f"/v1/businesses/{business['id']}"
    staff = await _call(http, owner, f"{url}/staff", {"display_name": "Coach"})
    service = await _call(
        http, owner, f"{url}/services", {"name": "Spin", "price_minor": 20_000, "capacity": CAPACITY}
    )
    starts_on = datetime.now(UTC).date() + timedelta(days=2)
    series = await _call(
        http,
        owner,
        f"{url}/class-series",
        {
            "service_id": service["id"],
            "staff_id": staff["id"],
            "rrule": f"FREQ=DAILY;COUNT={ROUNDS}",
            "starts_on": starts_on.isoformat(),
            "start_time": "18:00",
        },
    )
    sessions = series["sessions"]
    assert isinstance(sessions, list)
    assert len(sessions) == ROUNDS
    customers = await sign_up_many(http, CLIENTS + PREFILLED)
    return RaceGym(
        uuid.UUID(str(business["id"])),
        owner,
        str(service["id"]),
        str(staff["id"]),
        [s["id"] for s in sessions],
        customers,
    )


AUDIT_SQL = text(
    """
    SELECT s.id, s.capacity, s.seats_taken,
           (SELECT count(*) FROM booking b WHERE b.business_id = s.business_id AND b.session_id = s.id
              AND b.status IN ('held', 'confirmed', 'checked_in', 'completed', 'no_show')) AS holding
    FROM class_session s WHERE s.business_id = :b
    """
)


async def _audit(engine: AsyncEngine, business_id: uuid.UUID) -> list[tuple[object, ...]]:
    """Sessions whose counter is over capacity or disagrees with the bookings: none."""
    async with engine.connect() as conn:
        rows = (await conn.execute(AUDIT_SQL, {"b": business_id})).all()
    return [tuple(r) for r in rows if r.seats_taken > r.capacity or r.seats_taken != r.holding]


@pytest.mark.parametrize("round_", range(ROUNDS))
async def test_the_last_seats_of_a_class_go_to_exactly_that_many_customers(
    http: httpx.AsyncClient, gym: RaceGym, owner_engine: AsyncEngine, live_server: LiveServer, round_: int
) -> None:
    session_id = gym.session_ids[round_]
    path = f"{gym.url}/class-sessions/{session_id}/bookings"
    regulars, racers = gym.customers[:PREFILLED], gym.customers[PREFILLED:]
    for regular in regulars:
        await _call(http, regular, path, {})

    since = await database_clock(owner_engine)
    outcomes = await asyncio.gather(
        *(http.post(path, headers=c.headers, json={}) for c in itertools.islice(racers, CLIENTS)),
        return_exceptions=True,
    )
    failed = [repr(o) for o in outcomes if isinstance(o, BaseException)]
    assert not failed, f"{len(failed)} requests got no response, e.g. {failed[:3]}"
    responses = [o for o in outcomes if isinstance(o, httpx.Response)]
    counts = statuses(responses)
    print(f"class race: {dict(counts)}")
    left = CAPACITY - PREFILLED
    assert counts == Counter({201: left, 409: CLIENTS - left}), counts
    served = await assert_every_worker_served(owner_engine, live_server, since)
    print(f"served by the processes {sorted(served)}")
    losers = [r for r in responses if r.status_code == 409]
    assert {(r.headers["content-type"], r.json()["code"]) for r in losers} == {
        ("application/problem+json", "session_full")
    }
    winners = [uuid.UUID(r.json()["id"]) for r in responses if r.status_code == 201]
    assert set((await booking_copies(owner_engine, winners)).values()) == {1}
    assert await _audit(owner_engine, gym.business_id) == []
    seats = (
        await http.get(f"{gym.url}/class-sessions/{session_id}", headers=gym.customers[0].headers)
    ).json()
    assert (seats["seats_taken"], seats["seats_left"]) == (CAPACITY, 0)
    assert len(live_server.worker_pids()) == WORKERS, live_server.log_tail()


LINE = 40  # people waiting
FREED = 8  # seats given back at once
PROMOTION_SECONDS = 60


async def _line(engine: AsyncEngine, session_id: str) -> list[tuple[object, ...]]:
    """The waitlist in order: (customer, entry status, booking's status, booking's session)."""
    query = text(
        "SELECT w.customer_id, w.status, b.status, b.session_id"
        " FROM waitlist_entry w LEFT JOIN booking b ON b.business_id = w.business_id AND b.id = w.booking_id"
        " WHERE w.session_id = :s ORDER BY w.position"
    )
    async with engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(query, {"s": session_id})).all()]


async def test_freed_seats_go_to_the_head_of_the_line_exactly_once_across_worker_processes(
    http: httpx.AsyncClient,
    gym: RaceGym,
    owner_engine: AsyncEngine,
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    start = datetime.combine(datetime.now(UTC).date() + timedelta(days=3), time(8), tzinfo=UTC)
    created = await _call(
        http,
        gym.owner,
        f"{gym.url}/class-series",
        {
            "service_id": gym.service_id,
            "staff_id": gym.staff_id,
            "rrule": "FREQ=DAILY;COUNT=1",
            "starts_on": start.date().isoformat(),
            "start_time": "10:00",
        },
    )
    sessions = created["sessions"]
    assert isinstance(sessions, list)
    session_id = sessions[0]["id"]
    holders, waiters = gym.customers[:CAPACITY], gym.customers[CAPACITY : CAPACITY + LINE]
    seats = [await _call(http, c, f"{gym.url}/class-sessions/{session_id}/bookings", {}) for c in holders]
    for waiter in waiters:
        await _call(http, waiter, f"{gym.url}/class-sessions/{session_id}/waitlist", {})

    with running_job_workers(database_url, tmp_path_factory.mktemp("job-workers"), 2) as workers:
        cancelled = await asyncio.gather(
            *(
                http.post(f"{gym.url}/bookings/{seat['id']}/cancel", headers=holder.headers)
                for holder, seat in zip(holders[:FREED], seats[:FREED], strict=True)
            )
        )
        assert {r.status_code for r in cancelled} == {200}
        deadline = asyncio.get_running_loop().time() + PROMOTION_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            line = await _line(owner_engine, session_id)
            if sum(1 for _, status, _, _ in line if status == "promoted") >= FREED:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)  # room for a wrong extra promotion to show
        assert all(w.process.poll() is None for w in workers), workers[0].log_tail()

    line = await _line(owner_engine, session_id)
    expected_head = [(w.user_id, "promoted", "confirmed", uuid.UUID(session_id)) for w in waiters[:FREED]]
    assert line[:FREED] == expected_head
    assert {status for _, status, _, _ in line[FREED:]} == {"waiting"}
    assert await _audit(owner_engine, gym.business_id) == []
    async with owner_engine.connect() as conn:
        failed = await conn.scalar(
            text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed' OR attempts > 1")
        )
    assert failed == 0


ROOM_CAPACITY = 10
MOVES = 10  # the owner's concurrent attempts to move the later class onto the earlier one
PUBLISHES = 10  # and to publish another class in the room at the earlier one's hour


async def test_seats_in_two_classes_sharing_one_room_while_the_owner_tries_to_overlap_them(
    http: httpx.AsyncClient, gym: RaceGym, owner_engine: AsyncEngine, live_server: LiveServer
) -> None:
    """Two classes an hour apart in the one studio of a gym, two coaches. 200 customers
    race for their 20 seats while the owner, at the same instant, moves the later class
    onto the earlier one's hour and publishes another class there, ten times each. The
    room can hold one class at a time: every move and publish is refused 409, exactly 20
    customers get a seat, and the database shows no two active allocations of one lane
    overlapping and every counter equal to its bookings."""
    owner = gym.owner
    url = f"/v1/businesses/{(await _call(http, owner, '/v1/businesses', _gym_body()))['id']}"
    coaches = [
        (await _call(http, owner, f"{url}/staff", {"display_name": f"Coach {i}"}))["id"] for i in (0, 1)
    ]
    room = (await _call(http, owner, f"{url}/resources", {"name": "Studio A", "kind": "room"}))["id"]
    service = await _call(
        http,
        owner,
        f"{url}/services",
        {
            "name": "Spin",
            "price_minor": 20_000,
            "capacity": ROOM_CAPACITY,
            "duration_options_minutes": [60],
            "required_resource_kinds": ["room"],
        },
    )
    day = (datetime.now(UTC).date() + timedelta(days=4)).isoformat()

    async def publish(coach: str, at: str) -> httpx.Response:
        body = {"service_id": service["id"], "staff_id": coach, "rrule": "FREQ=DAILY;COUNT=1"}
        return await http.post(
            f"{url}/class-series",
            headers=owner.headers,
            json={**body, "starts_on": day, "start_time": at, "resource_ids": [room]},
        )

    first, later = (await publish(coaches[0], "18:00")).json(), (await publish(coaches[1], "19:00")).json()
    early_id, late_id = first["sessions"][0]["id"], later["sessions"][0]["id"]
    onto_early = {"starts_at": first["sessions"][0]["starts_at"]}
    racers = gym.customers
    since = await database_clock(owner_engine)
    seat_calls = [
        http.post(f"{url}/class-sessions/{(early_id, late_id)[i % 2]}/bookings", headers=c.headers, json={})
        for i, c in enumerate(itertools.islice(racers, CLIENTS))
    ]
    moves = [
        http.patch(f"{url}/class-sessions/{late_id}", headers=owner.headers, json=onto_early)
        for _ in range(MOVES)
    ]
    publishes = [publish(coaches[1], "18:30") for _ in range(PUBLISHES)]
    outcomes = await asyncio.gather(*seat_calls, *moves, *publishes, return_exceptions=True)
    failed = [repr(o) for o in outcomes if isinstance(o, BaseException)]
    assert not failed, f"{len(failed)} requests got no response, e.g. {failed[:3]}"
    responses = [o for o in outcomes if isinstance(o, httpx.Response)]
    seats, owner_tries = responses[:CLIENTS], responses[CLIENTS:]
    print(f"room race: seats {dict(statuses(seats))}, owner {dict(statuses(owner_tries))}")
    assert statuses(seats) == Counter({201: 2 * ROOM_CAPACITY, 409: CLIENTS - 2 * ROOM_CAPACITY})
    assert {r.json()["code"] for r in seats if r.status_code == 409} == {"session_full"}
    # A move may lose its compare-and-swap to a seat first (concurrent_update); a move that
    # wins it, and every publish, meets the room taken.
    assert {r.status_code for r in owner_tries} == {409}
    assert {r.json()["code"] for r in owner_tries} <= {"resource_busy", "concurrent_update"}
    assert {r.json()["code"] for r in owner_tries[MOVES:]} == {"resource_busy"}
    await assert_every_worker_served(owner_engine, live_server, since)
    assert await overlapping_allocations(owner_engine) == []
    assert await _audit(owner_engine, uuid.UUID(url.rsplit("/", 1)[1])) == []
    late = (await http.get(f"{url}/class-sessions/{late_id}", headers=owner.headers)).json()
    assert (late["starts_at"], late["seats_taken"]) == (later["sessions"][0]["starts_at"], ROOM_CAPACITY)


def _gym_body() -> dict[str, object]:
    slug = f"race-room-{uuid.uuid4().hex[:8]}"
    overrides = {"payment_policy": "pay_at_venue"}
    return {"name": "Race Room", "slug": slug, "business_type": "gym", "rule_overrides": overrides}
