"""Accounts proven by e-mail: registration by code, password reset, password change, signing
out everywhere, the profile. None of it tells a caller which addresses have accounts."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from datetime import timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.db.database import Database
from booklnk.tenancy import housekeeping
from support import PASSWORD, FakeClock, code_sent_to, sign_up

NEW_PASSWORD = "a-brand-new-password"


async def _messages(owner_engine: AsyncEngine, address: str) -> list[tuple[str, str]]:
    async with owner_engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT template, locale FROM outbox_message WHERE lower(address) = lower(:a) ORDER BY seq"),
            {"a": address},
        )
        return [(r.template, r.locale) for r in rows]


def _register(email: str, **extra: str) -> dict[str, str]:
    return {"email": email, **extra}


def _proof(email: str, code: str, password: str = PASSWORD) -> dict[str, str]:
    return {"email": email, "code": code, "password": password, "full_name": "Nour"}


async def test_registering_a_taken_address_answers_as_a_new_one_and_tells_its_owner(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    """Before: 409 `email_taken` told anyone which addresses have accounts."""
    owner = await sign_up(client, "owner")
    fresh = await client.post("/v1/auth/register", json=_register("nobody-yet@example.com"))
    taken = await client.post("/v1/auth/register", json=_register(owner.email.upper()))
    assert (taken.status_code, taken.headers.get("location")) == (fresh.status_code, None) == (202, None)
    assert taken.json().keys() == fresh.json().keys()
    assert taken.json()["detail"] == fresh.json()["detail"]
    assert await _messages(owner_engine, owner.email) == [
        ("registration_code", "en"),
        ("account_exists", "en"),
    ]
    # A second try within the hour sends no second notice (anyone can trigger it).
    await client.post("/v1/auth/register", json=_register(owner.email))
    assert len(await _messages(owner_engine, owner.email)) == 2


async def test_no_account_exists_until_the_code_comes_back(client: httpx.AsyncClient) -> None:
    email = "later@example.com"
    assert (await client.post("/v1/auth/register", json=_register(email))).status_code == 202
    login = await client.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert (login.status_code, login.json()["code"]) == (401, "invalid_credentials")
    verified = await client.post("/v1/auth/register/verify", json=_proof(email, await code_sent_to(email)))
    assert verified.status_code == 201
    assert verified.headers["location"] == "/v1/me"
    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {verified.json()['access_token']}"})
    assert me.json()["user"]["email"] == email
    login = await client.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200


async def test_a_code_works_once(client: httpx.AsyncClient) -> None:
    email = "once@example.com"
    await client.post("/v1/auth/register", json=_register(email))
    proof = _proof(email, await code_sent_to(email))
    assert (await client.post("/v1/auth/register/verify", json=proof)).status_code == 201
    again = await client.post("/v1/auth/register/verify", json=proof)
    assert (again.status_code, again.json()["code"]) == (400, "invalid_code")


async def test_five_wrong_guesses_kill_the_code(client: httpx.AsyncClient) -> None:
    email = "guess@example.com"
    await client.post("/v1/auth/register", json=_register(email))
    code = await code_sent_to(email)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    answers = [
        (await client.post("/v1/auth/register/verify", json=_proof(email, wrong))).status_code
        for _ in range(5)
    ]
    assert answers == [400] * 5
    late = await client.post("/v1/auth/register/verify", json=_proof(email, code))
    assert (late.status_code, late.json()["code"]) == (400, "invalid_code")


async def test_concurrent_guesses_are_each_counted(client: httpx.AsyncClient) -> None:
    """Guesses queue on the code's row: 20 at once cannot all read "4 tries left"."""
    email = "burst@example.com"
    await client.post("/v1/auth/register", json=_register(email))
    code = await code_sent_to(email)
    wrong = [f"{(int(code) + i) % 1_000_000:06d}" for i in range(1, 21)]
    answers = await asyncio.gather(
        *(client.post("/v1/auth/register/verify", json=_proof(email, w)) for w in wrong)
    )
    assert Counter(a.status_code for a in answers) == {400: 20}
    late = await client.post("/v1/auth/register/verify", json=_proof(email, code))
    assert late.status_code == 400


async def test_a_code_expires(client: httpx.AsyncClient, clock: FakeClock) -> None:
    email = "slow@example.com"
    await client.post("/v1/auth/register", json=_register(email))
    code = await code_sent_to(email)
    clock.advance(timedelta(minutes=15))
    late = await client.post("/v1/auth/register/verify", json=_proof(email, code))
    assert (late.status_code, late.json()["code"]) == (400, "invalid_code")


async def test_whoever_asks_for_a_code_cannot_choose_the_password(client: httpx.AsyncClient) -> None:
    """Someone asks for a code to your address first, and again after you did: every code
    went to your mailbox, the newest works, and the password is the one you give with it.
    (Before, the password came with the request, so the last to ask chose it.)"""
    email = "victim@example.com"
    await client.post("/v1/auth/register", json=_register(email))  # a stranger
    strangers = await code_sent_to(email)
    await client.post("/v1/auth/register", json=_register(email))  # you
    await client.post("/v1/auth/register", json=_register(email))  # the stranger again
    newest = await code_sent_to(email)
    void = await client.post("/v1/auth/register/verify", json=_proof(email, strangers, "strangers-password"))
    assert void.status_code == 400
    assert (await client.post("/v1/auth/register/verify", json=_proof(email, newest))).status_code == 201
    stranger = await client.post("/v1/auth/login", json={"email": email, "password": "strangers-password"})
    assert stranger.status_code == 401
    assert (
        await client.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    ).status_code == 200


async def test_wrong_guesses_across_an_addresss_codes_slow_down(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    """Asking for new codes does not buy new guesses: past ten wrong ones at an address,
    each further guess waits (even the right code, until its wait is over)."""
    email = "patient@example.com"
    for _ in range(2):
        await client.post("/v1/auth/register", json=_register(email))
        code = await code_sent_to(email)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _ in range(5):
            assert (
                await client.post("/v1/auth/register/verify", json=_proof(email, wrong))
            ).status_code == 400
    await client.post("/v1/auth/register", json=_register(email))
    code = await code_sent_to(email)
    held = await client.post("/v1/auth/register/verify", json=_proof(email, code))
    assert (held.status_code, held.json()["code"]) == (400, "invalid_code")
    clock.advance(timedelta(seconds=1))
    assert (await client.post("/v1/auth/register/verify", json=_proof(email, code))).status_code == 201


async def test_a_code_for_an_address_that_has_an_account_makes_nothing(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    """A taken address's registration is issued a code like any other (the same steps, the
    same time), but it is never sent, and no guess can use it."""
    owner = await sign_up(client, "owner")
    await client.post("/v1/auth/register", json=_register(owner.email))
    async with owner_engine.connect() as conn:
        issued = (
            await conn.execute(
                text("SELECT count(*) FROM one_time_code WHERE user_id = :u AND purpose = 'registration'"),
                {"u": owner.user_id},
            )
        ).scalar_one()
    assert issued == 1


async def test_an_address_is_sent_at_most_five_codes_an_hour(
    client: httpx.AsyncClient, owner_engine: AsyncEngine, clock: FakeClock
) -> None:
    email = "flooded@example.com"
    for _ in range(8):
        assert (await client.post("/v1/auth/register", json=_register(email))).status_code == 202
    assert len(await _messages(owner_engine, email)) == 5
    clock.advance(timedelta(hours=1))
    await client.post("/v1/auth/register", json=_register(email))
    assert len(await _messages(owner_engine, email)) == 6


async def test_the_language_comes_from_the_request_and_can_be_changed(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    email = "arabic@example.com"
    await client.post(
        "/v1/auth/register", json=_register(email), headers={"Accept-Language": "ar-EG,ar;q=0.9,en;q=0.8"}
    )
    verified = await client.post("/v1/auth/register/verify", json=_proof(email, await code_sent_to(email)))
    headers = {"Authorization": f"Bearer {verified.json()['access_token']}"}
    assert (await client.get("/v1/me", headers=headers)).json()["user"]["language"] == "ar"
    assert await _messages(owner_engine, email) == [("registration_code", "ar")]
    changed = await client.patch("/v1/me", headers=headers, json={"language": "en", "full_name": "Nour S."})
    assert changed.status_code == 200
    assert (changed.json()["language"], changed.json()["full_name"]) == ("en", "Nour S.")
    refused = await client.patch("/v1/me", headers=headers, json={"language": "fr"})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body.language"


async def test_password_reset_tells_nothing_and_ends_every_session(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    account = await sign_up(client, "forgetful")
    unknown = await client.post(
        "/v1/auth/password-reset", json={"email": "ghost@example.com", "language": "ar"}
    )
    known = await client.post("/v1/auth/password-reset", json={"email": account.email})
    assert unknown.status_code == known.status_code == 202
    assert unknown.json()["detail"] == known.json()["detail"]
    # The same steps either way: a code issued, a message recorded (a note, for no account).
    assert await _messages(owner_engine, "ghost@example.com") == [("password_reset_no_account", "ar")]
    code = await code_sent_to(account.email)
    confirm = {"email": account.email, "code": code, "password": NEW_PASSWORD}
    assert (await client.post("/v1/auth/password-reset/confirm", json=confirm)).status_code == 204
    again = await client.post("/v1/auth/password-reset/confirm", json=confirm)
    assert (again.status_code, again.json()["code"]) == (400, "invalid_code")
    # The old session's refresh token is dead; the old password too; the new one works.
    refreshed = await client.post("/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert refreshed.status_code == 401
    old = await client.post("/v1/auth/login", json={"email": account.email, "password": PASSWORD})
    assert old.status_code == 401
    new = await client.post("/v1/auth/login", json={"email": account.email, "password": NEW_PASSWORD})
    assert new.status_code == 200
    assert [t for t, _ in await _messages(owner_engine, account.email)][-2:] == [
        "password_reset_code",
        "password_changed",
    ]


async def test_a_reset_code_of_an_unknown_address_never_works(client: httpx.AsyncClient) -> None:
    await client.post("/v1/auth/password-reset", json={"email": "ghost@example.com"})
    attempt = await client.post(
        "/v1/auth/password-reset/confirm",
        json={"email": "ghost@example.com", "code": "000000", "password": NEW_PASSWORD},
    )
    assert (attempt.status_code, attempt.json()["code"]) == (400, "invalid_code")


async def test_changing_the_password_asks_for_the_current_one_and_ends_other_sessions(
    client: httpx.AsyncClient,
) -> None:
    account = await sign_up(client)
    wrong = await client.post(
        "/v1/me/password",
        headers=account.headers,
        json={"current_password": "not-my-password", "new_password": NEW_PASSWORD},
    )
    assert (wrong.status_code, wrong.json()["code"]) == (403, "wrong_password")
    changed = await client.post(
        "/v1/me/password",
        headers=account.headers,
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 200
    other = await client.post("/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert other.status_code == 401
    this = await client.post("/v1/auth/refresh", json={"refresh_token": changed.json()["refresh_token"]})
    assert this.status_code == 200


async def test_logging_out_everywhere_revokes_every_refresh_token(client: httpx.AsyncClient) -> None:
    account = await sign_up(client)
    second = await client.post("/v1/auth/login", json={"email": account.email, "password": PASSWORD})
    assert (await client.post("/v1/me/logout-all", headers=account.headers)).status_code == 204
    for token in (account.refresh_token, second.json()["refresh_token"]):
        assert (await client.post("/v1/auth/refresh", json={"refresh_token": token})).status_code == 401


async def test_a_code_is_stored_as_a_keyed_hash_only(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    email = "hashed@example.com"
    await client.post("/v1/auth/register", json=_register(email))
    code = await code_sent_to(email)
    async with owner_engine.connect() as conn:
        row = (await conn.execute(text("SELECT id, code_hash FROM one_time_code"))).one()
    assert code not in row.code_hash
    # Keyed: no one holding the table alone can try the million codes against it.
    assert row.code_hash != hashlib.sha256(f"{row.id}:{code}".encode()).hexdigest()


async def test_codes_are_pruned_a_day_after_they_expire(
    client: httpx.AsyncClient, db: Database, owner_engine: AsyncEngine, clock: FakeClock
) -> None:
    await client.post("/v1/auth/register", json=_register("early@example.com"))
    clock.advance(timedelta(hours=12))
    await client.post("/v1/auth/register", json=_register("later@example.com"))
    async with db.transaction() as session:
        await housekeeping.prune(session, now=clock.now() + timedelta(hours=13))
    async with owner_engine.connect() as conn:
        left = (await conn.execute(text("SELECT address FROM one_time_code"))).scalars().all()
    assert left == ["later@example.com"]
