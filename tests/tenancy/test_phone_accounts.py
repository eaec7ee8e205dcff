"""A mobile number as an identity: proven by a code sent by WhatsApp (falling back on SMS)
or SMS, then a way to sign in without the password; e-mail sign-in codes too. Nothing here
tells a caller which numbers or addresses have accounts."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.tenancy.accounts import PHONE_CODES_PER_DAY
from support import OUTBOX, Account, sign_up

PHONE = "+201001234567"


async def _messages(owner_engine: AsyncEngine, address: str) -> list[tuple[str, str, list[dict[str, str]]]]:
    async with owner_engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT template, channel, fallbacks FROM outbox_message WHERE address = :a ORDER BY seq"),
            {"a": address},
        )
        return [(r.template, r.channel, r.fallbacks) for r in rows]


async def _prove(client: httpx.AsyncClient, account: Account, phone: str = PHONE) -> httpx.Response:
    asked = await client.post("/v1/me/phone", json={"phone": phone}, headers=account.headers)
    assert asked.status_code == 202, asked.text
    code = OUTBOX.code(asked.json()["to"])
    assert code is not None
    return await client.post(
        "/v1/me/phone/verify", json={"phone": phone, "code": code}, headers=account.headers
    )


async def test_a_number_is_proven_by_a_code_sent_by_whatsapp_then_sms(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    account = await sign_up(client, "mona")
    asked = await client.post("/v1/me/phone", json={"phone": "010 0123 4567"}, headers=account.headers)
    assert asked.status_code == 202
    assert asked.json() | {"detail": ""} == {
        "to": PHONE,
        "channel": "whatsapp",
        "code_expires_in": 900,
        "detail": "",
    }
    assert await _messages(owner_engine, PHONE) == [
        ("phone_verification_code", "whatsapp", [{"channel": "sms", "address": PHONE}])
    ]
    me = (await client.get("/v1/me", headers=account.headers)).json()["user"]
    assert me["phone"] is None  # not before the code comes back

    code = OUTBOX.code(PHONE)
    wrong = "000000" if code != "000000" else "111111"
    refused = await client.post(
        "/v1/me/phone/verify", json={"phone": PHONE, "code": wrong}, headers=account.headers
    )
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid_code")
    proven = await client.post(
        "/v1/me/phone/verify", json={"phone": PHONE, "code": code}, headers=account.headers
    )
    assert proven.status_code == 200, proven.text
    assert proven.json()["phone"] == PHONE
    assert proven.json()["channels"] == ["whatsapp", "sms", "email"]


async def test_a_code_by_sms_goes_by_sms_alone(client: httpx.AsyncClient, owner_engine: AsyncEngine) -> None:
    account = await sign_up(client, "sami")
    asked = await client.post(
        "/v1/me/phone", json={"phone": PHONE, "channel": "sms"}, headers=account.headers
    )
    assert asked.json()["channel"] == "sms"
    assert await _messages(owner_engine, PHONE) == [("phone_verification_code", "sms", [])]


async def test_a_number_proven_by_another_account_moves_and_its_old_owner_is_told(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    """Egyptian operators recycle numbers: the newest proof holds."""
    before, after = await sign_up(client, "old"), await sign_up(client, "new")
    assert (await _prove(client, before)).status_code == 200
    assert (await _prove(client, after)).status_code == 200
    old_me = (await client.get("/v1/me", headers=before.headers)).json()["user"]
    new_me = (await client.get("/v1/me", headers=after.headers)).json()["user"]
    assert (old_me["phone"], new_me["phone"]) == (None, PHONE)
    async with owner_engine.connect() as conn:
        told = await conn.execute(
            text(
                "SELECT template, params->>'phone' FROM outbox_message WHERE address = :a"
                " ORDER BY seq DESC LIMIT 1"
            ),
            {"a": before.email},
        )
        assert told.one() == ("phone_removed", PHONE)


async def test_someone_elses_code_proves_nothing(client: httpx.AsyncClient) -> None:
    owner, other = await sign_up(client, "owner"), await sign_up(client, "other")
    await client.post("/v1/me/phone", json={"phone": PHONE}, headers=owner.headers)
    stolen = await client.post(
        "/v1/me/phone/verify", json={"phone": PHONE, "code": OUTBOX.code(PHONE)}, headers=other.headers
    )
    assert stolen.status_code == 400


async def test_sign_in_by_a_code_to_the_proven_number(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    account = await sign_up(client, "layla")
    assert (await _prove(client, account)).status_code == 200
    asked = await client.post("/v1/auth/code", json={"phone": "01001234567"})
    assert asked.status_code == 202
    assert (await _messages(owner_engine, PHONE))[-1][:2] == ("sign_in_code", "whatsapp")
    signed_in = await client.post("/v1/auth/code/verify", json={"phone": PHONE, "code": OUTBOX.code(PHONE)})
    assert signed_in.status_code == 200, signed_in.text
    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"})
    assert me.json()["user"]["id"] == str(account.user_id)
    # A code works once.
    again = await client.post("/v1/auth/code/verify", json={"phone": PHONE, "code": OUTBOX.code(PHONE)})
    assert again.status_code == 400


async def test_sign_in_by_a_code_to_the_email(client: httpx.AsyncClient) -> None:
    account = await sign_up(client, "hoda")
    assert (await client.post("/v1/auth/code", json={"email": account.email.upper()})).status_code == 202
    code = OUTBOX.code(account.email)
    signed_in = await client.post("/v1/auth/code/verify", json={"email": account.email, "code": code})
    assert signed_in.status_code == 200, signed_in.text


async def test_an_unknown_number_gets_the_same_answer_and_no_text(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    account = await sign_up(client, "known")
    await _prove(client, account)
    known = await client.post("/v1/auth/code", json={"phone": PHONE})
    unknown = await client.post("/v1/auth/code", json={"phone": "+201129876543"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() | {"to": ""} == unknown.json() | {"to": ""}
    assert await _messages(owner_engine, "+201129876543") == []
    guessed = await client.post("/v1/auth/code/verify", json={"phone": "+201129876543", "code": "123456"})
    assert (guessed.status_code, guessed.json()["code"]) == (400, "invalid_code")


async def test_bad_input_names_the_field_and_the_rule(client: httpx.AsyncClient) -> None:
    account = await sign_up(client, "typo")
    landline = await client.post("/v1/me/phone", json={"phone": "0223456789"}, headers=account.headers)
    assert landline.status_code == 422
    assert landline.json()["errors"][0]["field"] == "body.phone"
    assert "mobile" in landline.json()["errors"][0]["message"]
    both = await client.post("/v1/auth/code", json={"email": "a@example.com", "phone": PHONE})
    assert both.status_code == 422
    assert "exactly one of email and phone" in both.text


async def test_channels_are_chosen_in_order_and_each_at_most_once(client: httpx.AsyncClient) -> None:
    account = await sign_up(client, "picky")
    chosen = await client.patch("/v1/me", json={"channels": ["sms", "email"]}, headers=account.headers)
    assert chosen.json()["channels"] == ["sms", "email"]
    twice = await client.patch("/v1/me", json={"channels": ["sms", "sms"]}, headers=account.headers)
    assert twice.status_code == 422
    assert "at most once" in twice.text
    # Without a proven number, phone channels alone would drop every message unseen.
    phone_only = await client.patch("/v1/me", json={"channels": ["whatsapp"]}, headers=account.headers)
    assert (phone_only.status_code, phone_only.json()["errors"][0]["rule"]) == (422, "needs_phone")
    assert (await client.patch("/v1/me", json={"channels": []}, headers=account.headers)).status_code == 200


async def test_one_account_cannot_text_a_crowd_of_strangers(client: httpx.AsyncClient) -> None:
    spammer = await sign_up(client, "spammer")
    for n in range(PHONE_CODES_PER_DAY):
        sent = await client.post(
            "/v1/me/phone", json={"phone": f"+2010012340{n:02d}", "channel": "sms"}, headers=spammer.headers
        )
        assert sent.status_code == 202, sent.text
    refused = await client.post(
        "/v1/me/phone", json={"phone": "+201001234099", "channel": "sms"}, headers=spammer.headers
    )
    assert (refused.status_code, refused.json()["code"]) == (429, "too_many_requests")
    assert int(refused.headers["Retry-After"]) > 0
    # Another account is not held to this one's count.
    other = await sign_up(client, "other")
    allowed = await client.post(
        "/v1/me/phone", json={"phone": "+201001234099", "channel": "sms"}, headers=other.headers
    )
    assert allowed.status_code == 202
