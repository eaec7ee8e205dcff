"""Races through the real app and database: concurrent requests end in exactly one winner."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest

from support import PASSWORD, add_staff, code_sent_to, create_business, sign_up

ROUNDS = 3


async def test_same_slug_at_once_creates_one_business(client: httpx.AsyncClient) -> None:
    owner = await sign_up(client)
    for round_ in range(ROUNDS):
        body = {"name": "Twin", "slug": f"twin-{round_}", "business_type": "barbershop"}
        responses = await asyncio.gather(
            *(client.post("/v1/businesses", headers=owner.headers, json=body) for _ in range(10))
        )
        assert Counter(r.status_code for r in responses) == {201: 1, 409: 9}
        assert {r.json()["code"] for r in responses if r.status_code == 409} == {"slug_taken"}


async def test_same_email_at_once_registers_one_account(client: httpx.AsyncClient) -> None:
    """Ten registrations of one address at once, then ten verifications of its code at once:
    one account, one winner."""
    body = {"email": "race@example.com"}
    responses = await asyncio.gather(*(client.post("/v1/auth/register", json=body) for _ in range(10)))
    assert Counter(r.status_code for r in responses) == {202: 10}
    code = await code_sent_to("race@example.com")
    proof = {"email": "race@example.com", "code": code, "password": PASSWORD, "full_name": "Race"}
    verified = await asyncio.gather(*(client.post("/v1/auth/register/verify", json=proof) for _ in range(10)))
    assert Counter(r.status_code for r in verified) == {201: 1, 400: 9}


async def test_concurrent_guesses_get_exactly_the_allowed_number(client: httpx.AsyncClient) -> None:
    victim = await sign_up(client)
    guess = {"email": victim.email, "password": "wrong-password-x"}
    responses = await asyncio.gather(*(client.post("/v1/auth/login", json=guess) for _ in range(30)))
    # Each attempt is counted before its password is checked: 5 guesses, then refusals.
    assert Counter(r.status_code for r in responses) == {401: 5, 429: 25}


async def test_a_burst_of_good_logins_from_one_address_is_not_throttled(client: httpx.AsyncClient) -> None:
    accounts = [await sign_up(client, f"office{i}") for i in range(30)]
    logins = await asyncio.gather(
        *(client.post("/v1/auth/login", json={"email": a.email, "password": PASSWORD}) for a in accounts)
    )
    assert Counter(r.status_code for r in logins) == {200: 30}


@pytest.mark.parametrize("round_", range(ROUNDS))
async def test_two_owners_removing_each_other_leave_one(client: httpx.AsyncClient, round_: int) -> None:
    first, second = await sign_up(client, "first"), await sign_up(client, "second")
    business_id = await create_business(client, first)
    await add_staff(client, first, business_id, second)
    invited = await client.post(
        f"/v1/businesses/{business_id}/invitations",
        headers=first.headers,
        json={"email": second.email, "role": "owner"},
    )
    promoted = await client.post(
        f"/v1/businesses/{business_id}/invitations/accept",
        headers=second.headers,
        json={"token": invited.json()["token"]},
    )
    assert promoted.json()["role"] == "owner"

    removals = await asyncio.gather(
        client.delete(f"/v1/businesses/{business_id}/members/{second.user_id}", headers=first.headers),
        client.delete(f"/v1/businesses/{business_id}/members/{first.user_id}", headers=second.headers),
    )
    assert sorted(r.status_code for r in removals)[0] == 204
    members = []
    for owner in (first, second):
        listed = await client.get(f"/v1/businesses/{business_id}/members", headers=owner.headers)
        if listed.status_code == 200:
            members = listed.json()["items"]
    assert [m["role"] for m in members] == ["owner"]
