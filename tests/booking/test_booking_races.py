"""Booking races against the real server: several uvicorn worker processes on one database.

Hundreds of customers ask for the same time at once, through separate processes and
connection pools, so only PostgreSQL (the exclusion constraint on allocations) can keep
them apart. After each round the responses and a SQL audit must agree: one allocation per
lane and instant, one booking row per winner, and every loser told 409 `slot_unavailable`.
(Class seats, the fourth race, are in tests/classes/test_class_races.py.)
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from race_support import (
    WORKERS,
    LiveServer,
    Shop,
    active_allocations,
    booking_copies,
    booking_count,
    is_slot_unavailable,
    overlapping_allocations,
    race_client,
    running_server,
    seed_shop,
    statuses,
    unexpected,
)

CLIENTS = 200  # concurrent customers per round
ROUNDS = 3
BARBERS = 3
CHAIRS = 2
DURATIONS = (30, 45, 60)  # the service's options; race (ii) mixes them
GRID = timedelta(minutes=15)
# Fixed once, so a run that crosses midnight still gives every race and round its own time.
FIRST_DAY = datetime.now(UTC).date() + timedelta(days=3)


@pytest.fixture(scope="module")
def live_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with running_server(database_url, tmp_path_factory) as server:
        yield server


@pytest.fixture(scope="module")
async def http(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with race_client(live_server, CLIENTS) as client:
        yield client


@pytest.fixture(scope="module")
async def shop(http: httpx.AsyncClient) -> Shop:
    """Seeded once for the module; each race and round books its own time, so rounds never
    meet. (No `db` fixture here: it would empty the tables under the running server.)"""
    return await seed_shop(http, barbers=BARBERS, chairs=CHAIRS, customers=CLIENTS)


def slot(race: int, round_: int) -> datetime:
    """A start time of its own for each race and round, a few days ahead (real clock)."""
    day = FIRST_DAY + timedelta(days=race)
    return datetime.combine(day, time(8), tzinfo=UTC) + timedelta(hours=3 * round_)


def booking_body(shop: Shop, start: datetime, minutes: int, staff_id: uuid.UUID | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "service_id": str(shop.service_id),
        "starts_at": start.isoformat(),
        "duration_minutes": minutes,
    }
    if staff_id is not None:
        body["staff_id"] = str(staff_id)
    return body


async def race(http: httpx.AsyncClient, shop: Shop, bodies: Sequence[dict[str, Any]]) -> list[httpx.Response]:
    """Every body posted at once, each by a different customer."""
    customers = itertools.cycle(shop.customers)
    # Let every request finish before judging, so a failure leaves nothing in flight.
    outcomes = await asyncio.gather(
        *(http.post(f"{shop.url}/bookings", json=body, headers=next(customers).headers) for body in bodies),
        return_exceptions=True,
    )
    failed = [repr(o) for o in outcomes if isinstance(o, BaseException)]
    assert not failed, f"{len(failed)} requests got no response, e.g. {failed[:3]}"
    return [o for o in outcomes if isinstance(o, httpx.Response)]


async def race_and_audit(
    http: httpx.AsyncClient,
    shop: Shop,
    engine: AsyncEngine,
    server: LiveServer,
    bodies: Sequence[dict[str, Any]],
    winners_expected: int | None = None,
) -> list[dict[str, Any]]:
    """Run one round, check every response and the database, return the winners' bodies."""
    before = await booking_count(engine, shop.business_id)
    responses = await race(http, shop, bodies)
    counts = statuses(responses)
    print(f"race: {dict(counts)}")  # shown with -rA or on failure: winners and losers
    # Every request is answered 201 or 409 slot_unavailable: never a 5xx, nothing else.
    assert set(counts) <= {201, 409}, f"{counts}\n{unexpected(responses)}\n{server.log_tail()}"
    assert all(r.status_code == 201 or is_slot_unavailable(r) for r in responses), unexpected(responses)
    if winners_expected is not None:
        assert counts == Counter({201: winners_expected, 409: len(bodies) - winners_expected})
    winners = [(body, r.json()) for body, r in zip(bodies, responses, strict=True) if r.status_code == 201]
    for asked, got in winners:
        assert_booked_as_asked(asked, got)
    await audit(engine, shop, [uuid.UUID(got["id"]) for _, got in winners], before)
    # No worker died (and was replaced) under load.
    assert len(server.worker_pids()) == WORKERS, server.log_tail()
    return [got for _, got in winners]


async def audit(engine: AsyncEngine, shop: Shop, winner_ids: list[uuid.UUID], bookings_before: int) -> None:
    """What PostgreSQL holds after a round agrees with what the clients were told."""
    assert await overlapping_allocations(engine) == []
    assert set((await booking_copies(engine, winner_ids)).values()) <= {1}  # each exactly once
    assert await booking_count(engine, shop.business_id) - bookings_before == len(winner_ids)
    # One barber and one chair blocked per winner.
    assert set((await active_allocations(engine, winner_ids)).values()) <= {(1, 1)}


def assert_booked_as_asked(asked: dict[str, Any], got: dict[str, Any]) -> None:
    starts_at = datetime.fromisoformat(got["starts_at"])
    assert starts_at == datetime.fromisoformat(asked["starts_at"])
    assert datetime.fromisoformat(got["ends_at"]) - starts_at == timedelta(minutes=asked["duration_minutes"])
    assert got["status"] == "confirmed"  # a barbershop is paid at the venue: no hold
    if "staff_id" in asked:
        assert got["staff_id"] == asked["staff_id"]


@pytest.mark.parametrize("round_", range(ROUNDS))
async def test_one_slot_of_one_barber_has_exactly_one_winner(
    http: httpx.AsyncClient, shop: Shop, owner_engine: AsyncEngine, live_server: LiveServer, round_: int
) -> None:
    body = booking_body(shop, slot(0, round_), 30, shop.barbers[0])
    winners = await race_and_audit(http, shop, owner_engine, live_server, [body] * CLIENTS, 1)
    assert winners[0]["staff_id"] == str(shop.barbers[0])


@pytest.mark.parametrize("round_", range(ROUNDS))
async def test_overlapping_slots_of_mixed_lengths_never_overlap(
    http: httpx.AsyncClient, shop: Shop, owner_engine: AsyncEngine, live_server: LiveServer, round_: int
) -> None:
    # Starts staggered over four grid steps, lengths cycling through three: every pair of
    # requests overlaps or nearly so, and the mix changes from client to client.
    first = slot(1, round_)
    bodies = [
        booking_body(shop, first + GRID * (i % 4), DURATIONS[i % len(DURATIONS)], shop.barbers[1])
        for i in range(CLIENTS)
    ]
    winners = await race_and_audit(http, shop, owner_engine, live_server, bodies)
    assert winners, "somebody must get the free barber"
    spans = sorted(
        (datetime.fromisoformat(w["starts_at"]), datetime.fromisoformat(w["ends_at"])) for w in winners
    )
    for (_, earlier_end), (later_start, _) in itertools.pairwise(spans):
        assert earlier_end <= later_start, spans


@pytest.mark.parametrize("round_", range(ROUNDS))
async def test_any_staff_fills_exactly_the_free_barber_chair_pairs(
    http: httpx.AsyncClient, shop: Shop, owner_engine: AsyncEngine, live_server: LiveServer, round_: int
) -> None:
    body = booking_body(shop, slot(2, round_), 30, None)
    # Each cut needs a barber and a chair: the scarcer of the two decides.
    pairs = min(BARBERS, CHAIRS)
    winners = await race_and_audit(http, shop, owner_engine, live_server, [body] * CLIENTS, pairs)
    assert len({w["staff_id"] for w in winners}) == len(winners)
