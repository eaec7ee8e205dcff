"""Login throttling per account and client address, with growing delays (issue 10): a
stranger's guesses never lock the owner out, and neither concurrency nor many accounts
get more guesses through than allowed."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from fastapi import FastAPI

from booklnk.api.app import create_app
from booklnk.config import Settings
from booklnk.db.database import Database
from support import PASSWORD, FakeClock, sign_up

STRANGER = "203.0.113.7"
OWNER = "198.51.100.20"


@asynccontextmanager
async def from_address(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def app_with(settings: Settings, db: Database, clock: FakeClock, **overrides: object) -> FastAPI:
    return create_app(settings.model_copy(update=overrides), db, clock=clock)


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/v1/auth/login", json={"email": email, "password": password})


async def test_a_strangers_failures_do_not_stop_the_owner_from_their_address(
    client: httpx.AsyncClient, settings: Settings, db: Database, clock: FakeClock
) -> None:
    owner = await sign_up(client, "owner")
    app = app_with(settings, db, clock)
    async with from_address(app, STRANGER) as stranger, from_address(app, OWNER) as home:
        for _ in range(5):
            assert (await login(stranger, owner.email, "guess-guess")).status_code == 401
        assert (await login(home, owner.email, PASSWORD)).status_code == 200
        refused = await login(stranger, owner.email, PASSWORD)
        assert refused.status_code == 429  # even the right password, from the guesser's address
        assert refused.json()["code"] == "login_throttled"
        assert refused.headers["Retry-After"] == "1"


async def test_each_further_attempt_waits_twice_as_long_up_to_the_cap(
    client: httpx.AsyncClient, settings: Settings, db: Database, clock: FakeClock
) -> None:
    owner = await sign_up(client, "owner")
    app = app_with(settings, db, clock, login_max_delay_seconds=8)
    async with from_address(app, STRANGER) as stranger:
        for _ in range(5):
            assert (await login(stranger, owner.email, "guess-guess")).status_code == 401
        waits = []
        for _ in range(6):
            refused = await login(stranger, owner.email, "guess-guess")
            assert refused.status_code == 429
            waits.append(int(refused.headers["Retry-After"]))
            clock.advance(timedelta(seconds=waits[-1]))
            assert (await login(stranger, owner.email, "guess-guess")).status_code == 401
        assert waits == [1, 2, 4, 8, 8, 8]
        clock.advance(timedelta(seconds=8))
        # The right password after the wait works, and forgives this address's failures.
        assert (await login(stranger, owner.email, PASSWORD)).status_code == 200
        for _ in range(5):
            assert (await login(stranger, owner.email, "guess-guess")).status_code == 401


async def test_spraying_many_accounts_from_one_address_meets_the_looser_cap(
    client: httpx.AsyncClient, settings: Settings, db: Database, clock: FakeClock
) -> None:
    app = app_with(settings, db, clock, login_max_failures_per_address=20)
    async with from_address(app, STRANGER) as stranger, from_address(app, OWNER) as home:
        for i in range(20):
            assert (await login(stranger, f"victim{i}@example.com", "guess-guess")).status_code == 401
        refused = await login(stranger, "another@example.com", "guess-guess")
        assert refused.status_code == 429
        assert refused.json()["code"] == "login_throttled"
        assert (await login(home, "another@example.com", "guess-guess")).status_code == 401
        clock.advance(timedelta(seconds=int(refused.headers["Retry-After"])))
        assert (await login(stranger, "another@example.com", "guess-guess")).status_code == 401


async def test_concurrent_spraying_gets_exactly_the_addresss_allowance(
    client: httpx.AsyncClient, settings: Settings, db: Database, clock: FakeClock
) -> None:
    """60 wrong passwords for 60 accounts at once from one address, 20 allowed: exactly 20
    are checked (before, the failures were counted after the check and 56 got through)."""
    app = app_with(settings, db, clock, login_max_failures_per_address=20)
    async with from_address(app, STRANGER) as stranger:
        responses = await asyncio.gather(
            *(login(stranger, f"victim{i}@example.com", "guess-guess") for i in range(60))
        )
    assert Counter(r.status_code for r in responses) == {401: 20, 429: 40}


async def test_concurrent_guesses_at_one_account_get_exactly_the_free_ones(
    client: httpx.AsyncClient, settings: Settings, db: Database, clock: FakeClock
) -> None:
    owner = await sign_up(client, "owner")
    app = app_with(settings, db, clock)
    async with from_address(app, STRANGER) as stranger:
        responses = await asyncio.gather(*(login(stranger, owner.email, "guess-guess") for _ in range(30)))
    assert Counter(r.status_code for r in responses) == {401: 5, 429: 25}
