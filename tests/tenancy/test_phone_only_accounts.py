"""Signing up by a mobile number alone: a customer booking on a cheap phone gets a code by
WhatsApp (falling back on SMS) or SMS, sends it back with their name, and has an account
with the number proven, no e-mail and no password; it signs in by codes to the number and
is told of its bookings on the phone. Nothing tells a caller which numbers have accounts."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from booking_support import book, open_bookable_shop
from booklnk.tenancy.codes import CODES_PER_HOUR, CODES_PER_NUMBER_PER_DAY
from support import OUTBOX, Account, FakeClock, prove_phone, sign_up

PHONE = "+201001234567"
THURSDAY_10 = "2026-11-26T10:00:00+02:00"  # the suite's clock: Tuesday 2026-11-24 11:00 Cairo


async def _messages(owner_engine: AsyncEngine, address: str) -> list[tuple[str, str, list[dict[str, str]]]]:
    async with owner_engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT template, channel, fallbacks FROM outbox_message WHERE address = :a ORDER BY seq"),
            {"a": address},
        )
        return [(r.template, r.channel, r.fallbacks) for r in rows]


async def _sign_up_by_phone(
    client: httpx.AsyncClient, phone: str = PHONE, name: str = "Mona Adel"
) -> Account:
    asked = await client.post("/v1/auth/register", json={"phone": phone})
    assert asked.status_code == 202, asked.text
    made = await client.post(
        "/v1/auth/register/verify", json={"phone": phone, "code": OUTBOX.code(phone), "full_name": name}
    )
    assert made.status_code == 201, made.text
    headers = {"Authorization": f"Bearer {made.json()['access_token']}"}
    me = (await client.get("/v1/me", headers=headers)).json()["user"]
    return Account(uuid.UUID(me["id"]), "", headers, made.json()["refresh_token"])


async def test_a_number_and_its_code_make_an_account_with_no_email_and_no_password(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    asked = await client.post("/v1/auth/register", json={"phone": "010 0123 4567", "language": "ar"})
    assert asked.status_code == 202, asked.text
    assert asked.json() | {"detail": ""} == {
        "email": None,
        "phone": PHONE,
        "channel": "whatsapp",
        "code_expires_in": 900,
        "detail": "",
    }
    assert await _messages(owner_engine, PHONE) == [
        ("registration_code", "whatsapp", [{"channel": "sms", "address": PHONE}])
    ]
    made = await client.post(
        "/v1/auth/register/verify", json={"phone": PHONE, "code": OUTBOX.code(PHONE), "full_name": "منى عادل"}
    )
    assert made.status_code == 201, made.text
    assert made.headers["Location"] == "/v1/me"
    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {made.json()['access_token']}"})
    user = me.json()["user"]
    assert (user["email"], user["phone"], user["full_name"], user["language"]) == (
        None,
        PHONE,
        "منى عادل",
        "ar",
    )
    async with owner_engine.connect() as conn:
        stored = await conn.execute(
            text("SELECT email, password_hash FROM app_user WHERE phone = :p"), {"p": PHONE}
        )
        assert stored.one() == (None, None)


async def test_a_code_by_sms_goes_by_sms_alone(client: httpx.AsyncClient, owner_engine: AsyncEngine) -> None:
    asked = await client.post("/v1/auth/register", json={"phone": PHONE, "channel": "sms"})
    assert asked.json()["channel"] == "sms"
    assert await _messages(owner_engine, PHONE) == [("registration_code", "sms", [])]


async def test_the_phone_account_signs_in_by_a_code_and_has_no_password_to_use(
    client: httpx.AsyncClient,
) -> None:
    account = await _sign_up_by_phone(client)
    assert (await client.post("/v1/auth/code", json={"phone": PHONE})).status_code == 202
    signed_in = await client.post("/v1/auth/code/verify", json={"phone": PHONE, "code": OUTBOX.code(PHONE)})
    assert signed_in.status_code == 200, signed_in.text
    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"})
    assert me.json()["user"]["id"] == str(account.user_id)
    changed = await client.post(
        "/v1/me/password",
        json={"current_password": "anything-at-all", "new_password": "a long passphrase"},
        headers=account.headers,
    )
    assert (changed.status_code, changed.json()["code"]) == (403, "wrong_password")
    assert "no password" in changed.json()["detail"]
    # Its number is its only way in: it stays.
    removed = await client.delete("/v1/me/phone", headers=account.headers)
    assert (removed.status_code, removed.json()["errors"][0]["rule"]) == (422, "only_address")
    # Messages cannot be sent to an address it does not have.
    email_only = await client.patch("/v1/me", json={"channels": ["email"]}, headers=account.headers)
    assert (email_only.status_code, email_only.json()["errors"][0]["rule"]) == (422, "needs_email")


async def test_its_booking_is_confirmed_by_whatsapp_falling_back_on_sms_never_email(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    shop = await open_bookable_shop(client)
    account = await _sign_up_by_phone(client)
    booked = await book(client, shop, account, THURSDAY_10)
    assert booked.status_code == 201, booked.text
    async with owner_engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT channel, address, fallbacks FROM outbox_message WHERE booking_id = :b"),
            {"b": booked.json()["id"]},
        )
        assert [tuple(r) for r in rows] == [("whatsapp", PHONE, [{"channel": "sms", "address": PHONE}])]


async def test_exactly_one_of_email_and_phone_and_a_password_only_with_an_email(
    client: httpx.AsyncClient,
) -> None:
    for body in ({"email": "a@example.com", "phone": PHONE}, {}, {"language": "ar"}):
        refused = await client.post("/v1/auth/register", json=body)
        assert refused.status_code == 422, body
        assert refused.json()["errors"][0]["field"] == "body.phone"
        assert "exactly one of email and phone" in refused.json()["errors"][0]["message"]
    landline = await client.post("/v1/auth/register", json={"phone": "0223456789"})
    assert (landline.status_code, landline.json()["errors"][0]["field"]) == (422, "body.phone")
    proof = {"code": "123456", "full_name": "A", "password": "a long passphrase"}
    with_password = await client.post("/v1/auth/register/verify", json={"phone": PHONE, **proof})
    assert (with_password.status_code, with_password.json()["errors"][0]["field"]) == (422, "body.password")
    no_password = await client.post(
        "/v1/auth/register/verify", json={"email": "a@example.com", "code": "123456", "full_name": "A"}
    )
    assert (no_password.status_code, no_password.json()["errors"][0]["field"]) == (422, "body.password")


async def test_a_taken_number_answers_the_same_and_its_code_signs_its_account_in(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    account = await _sign_up_by_phone(client, name="Mona")
    taken = await client.post("/v1/auth/register", json={"phone": PHONE})
    free = await client.post("/v1/auth/register", json={"phone": "+201129876543"})
    assert taken.status_code == free.status_code == 202
    assert taken.json() | {"phone": ""} == free.json() | {"phone": ""}
    assert (await _messages(owner_engine, PHONE))[-1][:2] == ("sign_in_code", "whatsapp")
    again = await client.post(
        "/v1/auth/register/verify", json={"phone": PHONE, "code": OUTBOX.code(PHONE), "full_name": "Intruder"}
    )
    assert again.status_code == 201, again.text
    me = (
        await client.get("/v1/me", headers={"Authorization": f"Bearer {again.json()['access_token']}"})
    ).json()
    assert (me["user"]["id"], me["user"]["full_name"]) == (str(account.user_id), "Mona")
    async with owner_engine.connect() as conn:
        assert (
            await conn.execute(text("SELECT count(*) FROM app_user WHERE phone = :p"), {"p": PHONE})
        ).scalar() == 1


async def test_a_number_proven_by_an_email_account_is_taken_too(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    """A number already proven by an account with an e-mail: a sign-in code, not a second account."""
    account = await sign_up(client, "hala")
    await prove_phone(client, account, PHONE)
    await client.post("/v1/auth/register", json={"phone": PHONE, "channel": "sms"})
    assert (await _messages(owner_engine, PHONE))[-1][:2] == ("sign_in_code", "sms")
    made = await client.post(
        "/v1/auth/register/verify", json={"phone": PHONE, "code": OUTBOX.code(PHONE), "full_name": "Hala"}
    )
    me = (
        await client.get("/v1/me", headers={"Authorization": f"Bearer {made.json()['access_token']}"})
    ).json()
    assert (me["user"]["id"], me["user"]["email"]) == (str(account.user_id), account.email)


async def test_the_only_number_of_an_account_does_not_move_to_another(client: httpx.AsyncClient) -> None:
    """Moving it would lock its account out for ever; whoever proved it can sign in to it instead."""
    owner = await _sign_up_by_phone(client)
    other = await sign_up(client, "other")
    await client.post("/v1/me/phone", json={"phone": PHONE}, headers=other.headers)
    moved = await client.post(
        "/v1/me/phone/verify", json={"phone": PHONE, "code": OUTBOX.code(PHONE)}, headers=other.headers
    )
    assert (moved.status_code, moved.json()["errors"][0]["rule"]) == (422, "holds_account")
    me = (await client.get("/v1/me", headers=owner.headers)).json()["user"]
    assert me["phone"] == PHONE


async def test_codes_to_a_number_are_limited_per_hour_and_per_day(
    client: httpx.AsyncClient, owner_engine: AsyncEngine, clock: FakeClock
) -> None:
    for _ in range(CODES_PER_HOUR + 1):
        assert (await client.post("/v1/auth/register", json={"phone": PHONE})).status_code == 202
    assert len(await _messages(owner_engine, PHONE)) == CODES_PER_HOUR  # the sixth: silently none
    clock.current += timedelta(hours=1, minutes=1)
    for _ in range(CODES_PER_HOUR):
        assert (await client.post("/v1/auth/register", json={"phone": PHONE})).status_code == 202
    assert len(await _messages(owner_engine, PHONE)) == CODES_PER_NUMBER_PER_DAY
    clock.current += timedelta(hours=1, minutes=1)
    # A new hour, but the day's codes are spent: nothing more, whatever the purpose.
    assert (await client.post("/v1/auth/register", json={"phone": PHONE})).status_code == 202
    assert (await client.post("/v1/auth/code", json={"phone": PHONE})).status_code == 202
    assert len(await _messages(owner_engine, PHONE)) == CODES_PER_NUMBER_PER_DAY
    clock.current += timedelta(days=1)
    assert (await client.post("/v1/auth/register", json={"phone": PHONE})).status_code == 202
    assert len(await _messages(owner_engine, PHONE)) == CODES_PER_NUMBER_PER_DAY + 1


async def test_a_code_dies_after_five_wrong_guesses(client: httpx.AsyncClient) -> None:
    await client.post("/v1/auth/register", json={"phone": PHONE})
    code = OUTBOX.code(PHONE)
    assert code is not None
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        guessed = await client.post(
            "/v1/auth/register/verify", json={"phone": PHONE, "code": wrong, "full_name": "Guess"}
        )
        assert (guessed.status_code, guessed.json()["code"]) == (400, "invalid_code")
    late = await client.post(
        "/v1/auth/register/verify", json={"phone": PHONE, "code": code, "full_name": "Mona"}
    )
    assert (late.status_code, late.json()["code"]) == (400, "invalid_code")


async def test_every_account_keeps_an_email_or_a_number(owner_engine: AsyncEngine) -> None:
    with pytest.raises(IntegrityError, match="ck_app_user_has_address"):
        async with owner_engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO app_user (id, full_name, language, is_platform_admin)"
                    " VALUES (gen_random_uuid(), 'Nobody', 'en', false)"
                )
            )


async def test_the_phone_account_deletes_itself_with_a_code_sent_to_its_number(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    """It has no password to type again: a sign-in code to its number confirms instead."""
    account = await _sign_up_by_phone(client)
    by_password = await client.post(
        "/v1/me/delete", headers=account.headers, json={"password": "a long passphrase"}
    )
    assert (by_password.status_code, by_password.json()["code"]) == (403, "wrong_password")
    both = await client.post(
        "/v1/me/delete", headers=account.headers, json={"password": "a long passphrase", "code": "123456"}
    )
    assert (both.status_code, both.json()["errors"][0]["field"]) == (422, "body.code")
    await client.post("/v1/auth/code", json={"phone": PHONE})
    code = OUTBOX.code(PHONE)
    assert code is not None
    wrong = "000000" if code != "000000" else "111111"
    guessed = await client.post("/v1/me/delete", headers=account.headers, json={"code": wrong})
    assert (guessed.status_code, guessed.json()["code"]) == (400, "invalid_code")
    deleted = await client.post("/v1/me/delete", headers=account.headers, json={"code": code})
    assert deleted.status_code == 204, deleted.text
    assert (await client.get("/v1/me", headers=account.headers)).status_code == 401
    async with owner_engine.connect() as conn:
        row = await conn.execute(
            text("SELECT phone, full_name, deleted_at IS NOT NULL FROM app_user WHERE id = :i"),
            {"i": account.user_id},
        )
        assert row.one() == (None, "Deleted account", True)
    # The number is free: it may sign up again, as a new account.
    again = await _sign_up_by_phone(client)
    assert again.user_id != account.user_id
