"""Booking races against the real server: several uvicorn worker processes on one database.

Hundreds of customers ask for the same time at once, through separate processes and
connection pools, so only PostgreSQL (the exclusion constraint on allocations) can keep
them apart. After each round the responses and a SQL audit must agree: one allocation per
lane and instant, one booking row per winner, and every loser told 409 `slot_unavailable`.
Each round also shows, from `pg_stat_activity`, that every server process ran statements
for it. Besides the three races of the issue (one slot, overlapping lengths, any staff):
the one slot under Idempotency-Key with retries, held bookings of a prepaid shop (and a
lapsed hold raced for again), and "any staff" over more barbers than one request used to
try. (Class seats, the fourth race, are in tests/booking/classes/test_class_races.py.)
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from race_support import (
    WORKERS,
    LiveServer,
    Shop,
    active_allocations,
    assert_every_worker_served,
    booking_copies,
    booking_count,
    database_clock,
    is_slot_unavailable,
    overlapping_allocations,
    race_client,
    running_server,
    seed_shop,
    statuses,
    unexpected,
)
from support import Account

CLIENTS = 200  # concurrent customers per round
ROUNDS = 3
BARBERS = 3
CHAIRS = 2
DURATIONS = (30, 45, 60)  # the service's options; race (ii) mixes them
GRID = timedelta(minutes=15)
HOLD = timedelta(minutes=10)  # a barbershop's card hold
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


@dataclass(frozen=True)
class Attempt:
    """One racing client: what it asked, under which key, and what it was told (its retry,
    with the same key and body, when it made one)."""

    body: dict[str, Any]
    customer: Account
    key: str | None
    first: httpx.Response
    answered_at: datetime  # when `first` arrived, by the database server's clock
    retry: httpx.Response | None = None

    @property
    def won(self) -> bool:
        return self.first.status_code == 201


async def _post(
    http: httpx.AsyncClient, shop: Shop, who: Account, body: dict[str, Any], key: str | None
) -> httpx.Response:
    headers = {**who.headers, **({"Idempotency-Key": key} if key else {})}
    return await http.post(f"{shop.url}/bookings", json=body, headers=headers)


async def race(
    http: httpx.AsyncClient,
    shop: Shop,
    bodies: Sequence[dict[str, Any]],
    *,
    keyed: bool = False,
    clock_offset: timedelta = timedelta(0),
) -> list[Attempt]:
    """Every body posted at once, each by a different customer. `keyed`: each client sends
    its own Idempotency-Key and every other one retries (same key, same body) as soon as it
    has its answer, while the others are still racing; a winner that did not retry then
    retries after the round, so each round checks a winner's replay. `clock_offset` (the
    database's clock minus ours) dates each answer by the database's clock."""
    customers = itertools.cycle(shop.customers)

    async def client(i: int, body: dict[str, Any], who: Account) -> Attempt:
        key = f"race-{uuid.uuid4()}" if keyed else None
        first = await _post(http, shop, who, body, key)
        answered_at = datetime.now(UTC) + clock_offset
        retry = await _post(http, shop, who, body, key) if keyed and i % 2 == 0 else None
        return Attempt(body, who, key, first, answered_at, retry)

    # Let every request finish before judging, so a failure leaves nothing in flight.
    outcomes = await asyncio.gather(
        *(client(i, body, next(customers)) for i, body in enumerate(bodies)), return_exceptions=True
    )
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    attempts = [o for o in outcomes if isinstance(o, Attempt)]
    answered = [r for a in attempts for r in (a.first, a.retry) if r is not None]
    assert not failed, (
        f"{len(failed)} clients got no response ({dict(Counter(repr(e) for e in failed))});"
        f" the other answers: {dict(statuses(answered))}\n{unexpected(answered)}"
    )
    return [
        replace(a, retry=await _post(http, shop, a.customer, a.body, a.key))
        if keyed and a.retry is None and a.won
        else a
        for a in attempts
    ]


async def race_and_audit(
    http: httpx.AsyncClient,
    shop: Shop,
    engine: AsyncEngine,
    server: LiveServer,
    bodies: Sequence[dict[str, Any]],
    winners_expected: int | None = None,
    *,
    keyed: bool = False,
    status: str = "confirmed",
) -> list[Attempt]:
    """Run one round, check every response and the database; every client's attempt back."""
    before = await booking_count(engine, shop.business_id)
    since = await database_clock(engine)
    offset = since - datetime.now(UTC)
    attempts = await race(http, shop, bodies, keyed=keyed, clock_offset=offset)
    responses = [a.first for a in attempts]
    counts = statuses(responses)
    print(f"race: {dict(counts)}")  # shown with -rA or on failure: winners and losers
    # Every request is answered 201 or 409 slot_unavailable: never a 5xx, nothing else.
    assert set(counts) <= {201, 409}, f"{counts}\n{unexpected(responses)}\n{server.log_tail()}"
    assert all(r.status_code == 201 or is_slot_unavailable(r) for r in responses), unexpected(responses)
    served = await assert_every_worker_served(engine, server, since)
    print(f"served by the processes {sorted(served)}")
    if winners_expected is not None:
        assert counts == Counter({201: winners_expected, 409: len(bodies) - winners_expected})
    if keyed:
        assert_retries_replayed_or_refused(attempts, server)
    winners = [a for a in attempts if a.won]
    for a in winners:
        assert_booked_as_asked(a.body, a.first.json(), status)
    await audit(engine, shop, [uuid.UUID(a.first.json()["id"]) for a in winners], before)
    # No worker died (and was replaced) under load.
    assert len(server.worker_pids()) == WORKERS, server.log_tail()
    return attempts


def won(attempts: Sequence[Attempt]) -> list[dict[str, Any]]:
    """The bookings the winners were given."""
    return [a.first.json() for a in attempts if a.won]


def assert_retries_replayed_or_refused(attempts: Sequence[Attempt], server: LiveServer) -> None:
    """A winner's retry gets its very 201 back, marked replayed; a loser's is refused anew."""
    retried = [a for a in attempts if a.retry is not None]
    retries = [a.retry for a in retried if a.retry is not None]
    print(f"retries: {dict(statuses(retries))}")
    assert set(statuses(retries)) <= {201, 409}, f"{unexpected(retries)}\n{server.log_tail()}"
    assert len(retried) >= len(attempts) // 2
    assert any(a.won for a in retried), "no winner's retry was checked"
    assert not any("Idempotent-Replayed" in a.first.headers for a in attempts)
    for a in retried:
        assert a.retry is not None
        if a.won:
            assert (a.retry.status_code, a.retry.headers.get("Idempotent-Replayed")) == (201, "true")
            assert a.retry.json() == a.first.json()
        else:
            assert is_slot_unavailable(a.retry), unexpected([a.retry])
            assert "Idempotent-Replayed" not in a.retry.headers


async def audit(engine: AsyncEngine, shop: Shop, winner_ids: list[uuid.UUID], bookings_before: int) -> None:
    """What PostgreSQL holds after a round agrees with what the clients were told."""
    assert await overlapping_allocations(engine) == []
    assert set((await booking_copies(engine, winner_ids)).values()) <= {1}  # each exactly once
    assert await booking_count(engine, shop.business_id) - bookings_before == len(winner_ids)
    # One barber and (where the service needs one) one chair blocked per winner.
    assert set((await active_allocations(engine, winner_ids)).values()) <= {(1, 1 if shop.chairs else 0)}


def assert_booked_as_asked(asked: dict[str, Any], got: dict[str, Any], status: str) -> None:
    starts_at = datetime.fromisoformat(got["starts_at"])
    assert starts_at == datetime.fromisoformat(asked["starts_at"])
    assert datetime.fromisoformat(got["ends_at"]) - starts_at == timedelta(minutes=asked["duration_minutes"])
    assert got["status"] == status  # a barbershop is paid at the venue (no hold) unless it asks prepay
    if status == "held":
        # Born held for the card's hold time, counted from its creation.
        expires = datetime.fromisoformat(got["hold_expires_at"]) - datetime.fromisoformat(got["created_at"])
        assert abs(expires - HOLD) < timedelta(seconds=30), expires
        assert got["payment_method"] == asked["payment_method"]
    else:
        assert got["hold_expires_at"] is None
    if "staff_id" in asked:
        assert got["staff_id"] == asked["staff_id"]


@pytest.mark.parametrize("round_", range(ROUNDS))
async def test_one_slot_of_one_barber_has_exactly_one_winner(
    http: httpx.AsyncClient, shop: Shop, owner_engine: AsyncEngine, live_server: LiveServer, round_: int
) -> None:
    # Each client with its own Idempotency-Key, half of them retrying at once: the replays
    # and the re-refusals race with everyone else's first request.
    body = booking_body(shop, slot(0, round_), 30, shop.barbers[0])
    attempts = await race_and_audit(http, shop, owner_engine, live_server, [body] * CLIENTS, 1, keyed=True)
    assert won(attempts)[0]["staff_id"] == str(shop.barbers[0])


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
    winners = won(await race_and_audit(http, shop, owner_engine, live_server, bodies))
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
    winners = won(await race_and_audit(http, shop, owner_engine, live_server, [body] * CLIENTS, pairs))
    assert len({w["staff_id"] for w in winners}) == len(winners)


@pytest.fixture(scope="module")
async def prepay_shop(http: httpx.AsyncClient, shop: Shop) -> Shop:
    """A barbershop that asks for payment first: its bookings are born held."""
    # A customer may win every round here (three, and the lapsed hold's): the shop lets one
    # hold up to five unpaid bookings, so a winner's later attempts still meet the slot.
    overrides = {"payment_policy": "prepay", "max_unpaid_holds_per_customer": 5}
    return await seed_shop(http, barbers=1, chairs=1, customers=shop.customers, rule_overrides=overrides)


def held_body(shop: Shop, start: datetime) -> dict[str, Any]:
    """Half an hour with the shop's one barber, to be paid by card (so born held)."""
    return {**booking_body(shop, start, 30, shop.barbers[0]), "payment_method": "card"}


@pytest.mark.parametrize("round_", range(ROUNDS))
async def test_one_slot_of_a_prepaid_shop_is_held_for_exactly_one(
    http: httpx.AsyncClient,
    prepay_shop: Shop,
    owner_engine: AsyncEngine,
    live_server: LiveServer,
    round_: int,
) -> None:
    body = held_body(prepay_shop, slot(3, round_))
    winners = won(
        await race_and_audit(http, prepay_shop, owner_engine, live_server, [body] * CLIENTS, 1, status="held")
    )
    # The hold blocks its time like a confirmed booking: nobody else may have it.
    assert await held_bookings(owner_engine, prepay_shop.business_id, slot(3, round_)) == [
        uuid.UUID(winners[0]["id"])
    ]


async def test_a_lapsed_hold_goes_to_exactly_one_of_the_next_racers(
    http: httpx.AsyncClient, prepay_shop: Shop, owner_engine: AsyncEngine, live_server: LiveServer
) -> None:
    # The server runs on the real clock, so the hold is made to lapse by moving its expiry
    # into the past (what the server would see once its hold time had gone by). Every
    # racer then finds the lapsed hold's allocation in the way; the winner expires it.
    start = slot(4, 0)
    body = held_body(prepay_shop, start)
    first = await _post(http, prepay_shop, prepay_shop.customers[0], body, None)
    assert (first.status_code, first.json()["status"]) == (201, "held"), first.text
    lapsed = uuid.UUID(first.json()["id"])
    async with owner_engine.begin() as conn:
        moved = await conn.execute(
            text("UPDATE booking SET hold_expires_at = now() - interval '1 second' WHERE id = :b"),
            {"b": lapsed},
        )
        assert moved.rowcount == 1
    winners = won(
        await race_and_audit(http, prepay_shop, owner_engine, live_server, [body] * CLIENTS, 1, status="held")
    )
    assert await held_bookings(owner_engine, prepay_shop.business_id, start) == [uuid.UUID(winners[0]["id"])]
    assert await booking_state(owner_engine, lapsed) == ("expired", 0)


CREW = 24  # three times the candidates one request used to try (8); within today's 32


@pytest.fixture(scope="module")
async def crew_shop(http: httpx.AsyncClient, shop: Shop) -> Shop:
    """Many barbers and a service needing no chair: the barbers alone decide."""
    return await seed_shop(http, barbers=CREW, chairs=0, customers=shop.customers)


@pytest.mark.parametrize("round_", range(ROUNDS))
async def test_any_staff_books_every_free_barber_of_a_large_crew(
    http: httpx.AsyncClient, crew_shop: Shop, owner_engine: AsyncEngine, live_server: LiveServer, round_: int
) -> None:
    # While a barber is free, nobody may be told the slot is taken: exactly one winner per
    # barber, whichever candidates the losers tried first.
    body = booking_body(crew_shop, slot(5, round_), 30, None)
    attempts = await race_and_audit(http, crew_shop, owner_engine, live_server, [body] * CLIENTS, CREW)
    winners = won(attempts)
    assert sorted(w["staff_id"] for w in winners) == sorted(str(b) for b in crew_shop.barbers)
    # Sharper than the count (later clients find the barbers the early losers left): a loser
    # may be refused only once every barber is taken, so no winner's transaction (its
    # booking's created_at) may begin after a loser was already told 409.
    last_winner_began = max(datetime.fromisoformat(w["created_at"]) for w in winners)
    refused_early = [a.answered_at for a in attempts if not a.won and a.answered_at < last_winner_began]
    assert not refused_early, (
        f"{len(refused_early)} clients were told 409 while a barber was still free"
        f" (the last winner began at {last_winner_began}, the first refusal at {min(refused_early)})"
    )


async def held_bookings(engine: AsyncEngine, business_id: uuid.UUID, starts_at: datetime) -> list[uuid.UUID]:
    """The held bookings with active allocations that start at `starts_at`."""
    query = text(
        "SELECT DISTINCT b.id FROM booking b JOIN allocation a ON a.business_id = b.business_id"
        " AND a.booking_id = b.id AND a.active"
        " WHERE b.business_id = :biz AND b.status = 'held' AND b.starts_at = :start"
    )
    async with engine.connect() as conn:
        return list((await conn.execute(query, {"biz": business_id, "start": starts_at})).scalars())


async def booking_state(engine: AsyncEngine, booking_id: uuid.UUID) -> tuple[str, int]:
    """A booking's status and how many active allocations it still has."""
    query = text(
        "SELECT b.status, (SELECT count(*) FROM allocation a"
        " WHERE a.business_id = b.business_id AND a.booking_id = b.id AND a.active)"
        " FROM booking b WHERE b.id = :b"
    )
    async with engine.connect() as conn:
        row = (await conn.execute(query, {"b": booking_id})).one()
        return str(row[0]), int(row[1])


GREEDY_HOLDS = 50


async def test_one_customer_sending_fifty_holds_at_once_gets_at_most_the_limit(
    http: httpx.AsyncClient, shop: Shop, owner_engine: AsyncEngine, live_server: LiveServer
) -> None:
    """Fifty holds of free slots from one account, all at once through two processes: the
    business's limit of unpaid holds per customer (2) lets exactly two through."""
    greedy_shop = await seed_shop(
        http, barbers=3, chairs=0, customers=shop.customers[:1], rule_overrides={"payment_policy": "prepay"}
    )
    (greedy,) = greedy_shop.customers
    day = FIRST_DAY + timedelta(days=6)
    bodies = [
        {**booking_body(greedy_shop, start, 30, barber), "payment_method": "card"}
        for start in (datetime.combine(day + timedelta(days=d), time(6), tzinfo=UTC) for d in range(17))
        for barber in greedy_shop.barbers
    ][:GREEDY_HOLDS]
    since = await database_clock(owner_engine)
    outcomes = await asyncio.gather(
        *(_post(http, greedy_shop, greedy, body, None) for body in bodies), return_exceptions=True
    )
    failed = [repr(o) for o in outcomes if isinstance(o, BaseException)]
    assert not failed, f"{len(failed)} requests got no response, e.g. {failed[:3]}"
    responses = [o for o in outcomes if isinstance(o, httpx.Response)]
    counts = statuses(responses)
    print(f"one customer's holds: {dict(counts)}")
    assert counts == Counter({201: 2, 409: GREEDY_HOLDS - 2}), f"{counts}\n{unexpected(responses)}"
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"too_many_holds"}
    await assert_every_worker_served(owner_engine, live_server, since)
    async with owner_engine.connect() as conn:
        held = await conn.scalar(
            text(
                "SELECT count(*) FROM booking WHERE business_id = :b AND customer_id = :c AND status = 'held'"
            ),
            {"b": greedy_shop.business_id, "c": greedy.user_id},
        )
    assert held == 2
    assert await overlapping_allocations(owner_engine) == []
