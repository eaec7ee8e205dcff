"""Deleting an account erases the person and keeps the businesses' records of what
happened: the bookings and money stay, under an account with nothing personal left."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booking_support import book, customer, open_bookable_shop
from support import OUTBOX, PASSWORD, Account, FakeClock, add_staff, log_in, prove_phone, sign_up

NOON = "2026-11-24T12:00:00+02:00"  # the suite's clock is 11:00 in Cairo


async def _delete(client: httpx.AsyncClient, who: Account, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/v1/me/delete", headers=who.headers, json={"password": password})


async def test_a_deleted_account_keeps_nothing_personal_and_its_bookings_stay(
    client: httpx.AsyncClient, clock: FakeClock, owner_engine: AsyncEngine
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    await prove_phone(client, mona, "+201001234567")
    booked = await book(client, shop, mona, NOON)
    assert booked.status_code == 201, booked.text
    (record,) = (await client.get(f"{shop.url}/customers", headers=shop.owner.headers)).json()["items"]
    noted = await client.patch(
        f"{shop.url}/customers/{record['id']}", headers=shop.owner.headers, json={"notes": "Allergic to X"}
    )
    assert noted.status_code == 200, noted.text

    upcoming = await _delete(client, mona)
    assert (upcoming.status_code, upcoming.json()["code"], upcoming.json()["upcoming"]) == (
        409,
        "upcoming_bookings",
        1,
    )
    wrong = await _delete(client, mona, "not the password")
    assert (wrong.status_code, wrong.json()["code"]) == (403, "wrong_password")

    clock.advance(timedelta(hours=2))  # the booking is past
    mona = await log_in(client, mona.email, mona.user_id)
    owner = await log_in(client, shop.owner.email, shop.owner.user_id)
    assert (await _delete(client, mona)).status_code == 204

    gone = await client.get("/v1/me", headers=mona.headers)
    assert (gone.status_code, gone.json()["code"]) == (401, "invalid_token")
    refreshed = await client.post("/v1/auth/refresh", json={"refresh_token": mona.refresh_token})
    assert refreshed.status_code == 401
    login = await client.post("/v1/auth/login", json={"email": mona.email, "password": PASSWORD})
    assert (login.status_code, login.json()["code"]) == (401, "invalid_credentials")

    async with owner_engine.connect() as conn:
        user = (
            await conn.execute(
                text("SELECT full_name, email, phone, deleted_at FROM app_user WHERE id = :id"),
                {"id": mona.user_id},
            )
        ).one()
        assert user.full_name == "Deleted account"
        assert mona.email not in user.email
        assert (user.phone, user.deleted_at is not None) == (None, True)
        kept = await conn.execute(
            text("SELECT count(*) FROM booking WHERE customer_id = :id"), {"id": mona.user_id}
        )
        assert kept.scalar_one() == 1
        left = await conn.execute(
            text(
                "SELECT count(*) FROM outbox_message WHERE (user_id = :id OR address IN (:email, :phone))"
                " AND (address <> '' OR params <> '{}'::jsonb OR status = 'pending')"
            ),
            {"id": mona.user_id, "email": mona.email, "phone": "+201001234567"},
        )
        assert left.scalar_one() == 0
        codes = await conn.execute(
            text("SELECT count(*) FROM one_time_code WHERE user_id = :id OR address IN (:email, :phone)"),
            {"id": mona.user_id, "email": mona.email, "phone": "+201001234567"},
        )
        assert codes.scalar_one() == 0

    (forgotten,) = (await client.get(f"{shop.url}/customers", headers=owner.headers)).json()["items"]
    assert (forgotten["id"], forgotten["name"], forgotten["phone"], forgotten["notes"]) == (
        record["id"],
        "Deleted account",
        None,
        "",
    )
    listed = (await client.get(f"{shop.url}/bookings", headers=owner.headers)).json()["items"]
    assert [item["customer"]["name"] for item in listed] == ["Deleted account"]

    # The address is free: it may sign up again, as a new account.
    again = await client.post("/v1/auth/register", json={"email": mona.email})
    assert again.status_code == 202
    proof = {"email": mona.email, "code": OUTBOX.code(mona.email), "password": PASSWORD, "full_name": "Mona"}
    assert (await client.post("/v1/auth/register/verify", json=proof)).status_code == 201


async def test_staff_are_removed_by_their_owner_before_deleting(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    barber = await sign_up(client, "barber")
    await add_staff(client, shop.owner, shop.business_id, barber)
    for who in (barber, shop.owner):
        refused = await _delete(client, who)
        assert (refused.status_code, refused.json()["code"]) == (409, "account_has_roles")
    assert (await client.get("/v1/me", headers=barber.headers)).status_code == 200


async def test_an_account_that_never_booked_is_deleted_at_once(client: httpx.AsyncClient) -> None:
    someone = await sign_up(client)
    arabic = await client.post(
        "/v1/me/delete", headers={**someone.headers, "Accept-Language": "ar"}, json={"password": ""}
    )
    assert (arabic.status_code, arabic.json()["errors"][0]["field"]) == (422, "body.password")
    assert (await _delete(client, someone)).status_code == 204
    assert (await _delete(client, someone)).status_code == 401
