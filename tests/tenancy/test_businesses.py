"""Businesses, roles and invitations."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.tenancy.service import INVITATIONS_PER_DAY
from mail_server import Mailbox
from support import JobRunner, add_staff, create_business, sign_up


async def test_owner_creates_business_with_cairo_defaults(client: httpx.AsyncClient) -> None:
    owner = await sign_up(client, "owner")
    business_id = await create_business(client, owner)
    business = (await client.get(f"/v1/businesses/{business_id}", headers=owner.headers)).json()
    assert business["time_zone"] == "Africa/Cairo"
    assert business["currency"] == "EGP"
    me = (await client.get("/v1/me", headers=owner.headers)).json()
    assert [(m["business_id"], m["role"]) for m in me["memberships"]] == [(str(business_id), "owner")]


async def test_unknown_time_zone_is_422(client: httpx.AsyncClient) -> None:
    owner = await sign_up(client)
    response = await client.post(
        "/v1/businesses",
        headers=owner.headers,
        json={"name": "X", "slug": "xx-zone", "business_type": "barbershop", "time_zone": "Mars/Olympus"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "body.time_zone",
        "rule": "iana_time_zone",
        "message": "'Mars/Olympus' is not an IANA time zone.",
    }


async def test_unknown_business_type_is_422(client: httpx.AsyncClient) -> None:
    owner = await sign_up(client)
    response = await client.post(
        "/v1/businesses", headers=owner.headers, json={"name": "X", "slug": "xx-type", "business_type": "zoo"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["rule"] == "unknown_business_type"


async def test_taken_slug_is_409(client: httpx.AsyncClient) -> None:
    owner = await sign_up(client)
    body = {"name": "X", "slug": "same-slug", "business_type": "barbershop"}
    assert (await client.post("/v1/businesses", headers=owner.headers, json=body)).status_code == 201
    again = await client.post("/v1/businesses", headers=owner.headers, json=body)
    assert again.status_code == 409
    assert again.json()["code"] == "slug_taken"


async def test_user_can_be_staff_in_one_business_and_customer_in_another(client: httpx.AsyncClient) -> None:
    owner_a, owner_b, person = (
        await sign_up(client, "a"),
        await sign_up(client, "b"),
        await sign_up(client, "p"),
    )
    shop_a = await create_business(client, owner_a)
    shop_b = await create_business(client, owner_b)
    await add_staff(client, owner_a, shop_a, person)

    me = (await client.get("/v1/me", headers=person.headers)).json()
    assert [(m["business_id"], m["role"]) for m in me["memberships"]] == [(str(shop_a), "staff")]
    # Staff at A, but only a customer at B: B's member list is closed to them.
    assert (await client.get(f"/v1/businesses/{shop_b}/members", headers=person.headers)).status_code == 403
    assert (await client.get(f"/v1/businesses/{shop_b}", headers=person.headers)).status_code == 200


async def test_invitation_for_another_email_is_refused(client: httpx.AsyncClient) -> None:
    owner, intended, other = await sign_up(client), await sign_up(client), await sign_up(client)
    business_id = await create_business(client, owner)
    invited = await client.post(
        f"/v1/businesses/{business_id}/invitations", headers=owner.headers, json={"email": intended.email}
    )
    token = invited.json()["token"]
    stolen = await client.post(
        f"/v1/businesses/{business_id}/invitations/accept", headers=other.headers, json={"token": token}
    )
    assert stolen.status_code == 403
    ok = await client.post(
        f"/v1/businesses/{business_id}/invitations/accept", headers=intended.headers, json={"token": token}
    )
    assert ok.status_code == 200
    reused = await client.post(
        f"/v1/businesses/{business_id}/invitations/accept", headers=intended.headers, json={"token": token}
    )
    assert reused.status_code == 409


async def test_last_owner_cannot_be_removed(client: httpx.AsyncClient) -> None:
    owner = await sign_up(client)
    business_id = await create_business(client, owner)
    response = await client.delete(
        f"/v1/businesses/{business_id}/members/{owner.user_id}", headers=owner.headers
    )
    assert response.status_code == 409
    assert response.json()["code"] == "last_owner"


async def test_businesses_list_is_cursor_paginated(client: httpx.AsyncClient) -> None:
    owner = await sign_up(client)
    created = {str(await create_business(client, owner)) for _ in range(5)}
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/businesses", headers=owner.headers, params=params)).json()
        seen += [b["id"] for b in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(created)
    assert len(seen) == len(set(seen))


async def test_garbage_cursor_is_422(client: httpx.AsyncClient) -> None:
    owner = await sign_up(client)
    response = await client.get("/v1/businesses", headers=owner.headers, params={"cursor": "%%%garbage"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.cursor"


async def test_members_and_invitations_are_cursor_paginated(client: httpx.AsyncClient) -> None:
    owner = await sign_up(client)
    business_id = await create_business(client, owner)
    base = f"/v1/businesses/{business_id}"
    invited = set()
    for n in range(5):
        answer = await client.post(
            f"{base}/invitations", headers=owner.headers, json={"email": f"guest{n}@example.com"}
        )
        invited.add(answer.json()["id"])
    for n in range(2):
        await add_staff(client, owner, business_id, await sign_up(client, f"staff{n}"))

    async def walk(path: str, key: str) -> list[str]:
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get(f"{base}/{path}", headers=owner.headers, params=params)).json()
            assert len(page["items"]) <= 2
            seen += [row[key] for row in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return seen

    assert sorted(await walk("invitations", "id")) == sorted(invited)
    members = await walk("members", "user_id")
    assert len(members) == len(set(members)) == 3  # the owner and two staff


async def test_the_invited_address_is_sent_the_token_and_the_outbox_forgets_it(
    client: httpx.AsyncClient, run_jobs: JobRunner, mailbox: Mailbox, owner_engine: AsyncEngine
) -> None:
    owner, intended = await sign_up(client, "owner"), await sign_up(client, "barber")
    await client.patch("/v1/me", json={"language": "ar"}, headers=intended.headers)
    business_id = await create_business(client, owner)
    await client.post(
        f"/v1/businesses/{business_id}/invitations", headers=owner.headers, json={"email": intended.email}
    )
    await run_jobs()
    texts = [(m, m.get_body(preferencelist=("plain",))) for m in mailbox.messages(to=intended.email)]
    ((invitation, body),) = [
        (m, b) for m, b in texts if b is not None and "/invitations/accept" in b.get_content()
    ]
    assert str(invitation["Content-Language"]) == "ar"  # the invited account's language
    # The token stands on a line of its own, in Arabic inside directional isolates (it may
    # start with "-": no \b before it).
    token = re.search(r"^\s+\u2068?([A-Za-z0-9_-]{40,})\u2069?\s*$", body.get_content(), re.MULTILINE)
    assert token is not None
    accepted = await client.post(
        f"/v1/businesses/{business_id}/invitations/accept",
        headers=intended.headers,
        json={"token": token.group(1)},
    )
    assert accepted.status_code == 200, accepted.text
    async with owner_engine.connect() as conn:
        kept = await conn.execute(
            text("SELECT params ? 'token' FROM outbox_message WHERE template = 'staff_invitation'")
        )
        assert kept.scalars().all() == [False]


async def test_invitations_cannot_become_a_way_to_email_strangers(client: httpx.AsyncClient) -> None:
    owner = await sign_up(client)
    base = f"/v1/businesses/{await create_business(client, owner)}"

    async def invite(email: str) -> httpx.Response:
        return await client.post(f"{base}/invitations", headers=owner.headers, json={"email": email})

    first = await invite("friend@example.com")
    assert first.status_code == 201, first.text
    again = await invite("FRIEND@example.com")
    assert (again.status_code, again.json()["code"]) == (409, "invitation_pending")
    assert again.json()["invitation_id"] == first.json()["id"]
    revoked = await client.delete(f"{base}/invitations/{first.json()['id']}", headers=owner.headers)
    assert revoked.status_code == 204
    assert (await invite("friend@example.com")).status_code == 201  # revoked: a new one may go
    for n in range(INVITATIONS_PER_DAY - 2):
        assert (await invite(f"guest{n}@example.com")).status_code == 201
    refused = await invite("one-too-many@example.com")
    assert (refused.status_code, refused.json()["code"]) == (429, "too_many_requests")
