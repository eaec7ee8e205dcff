"""The request path stays lean without changing an answer: a named staff member's search
reads only their calendar (and the business's), the business-type definition is parsed
once per stored text, and the business's rules come with the tenant guard's one query."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booking_support import ALL_WEEK_9_TO_18, customer, open_bookable_shop
from booklnk.business_types import service as business_types
from booklnk.business_types.definition import BusinessTypeDefinition
from booklnk.db.database import Database
from booklnk.tenancy import service as tenancy
from booklnk.tenancy.context import Actor
from booklnk.tenancy.errors import BusinessNotFound
from support import FakeClock, sign_up, statements

TOMORROW = {"from": "2026-11-25T00:00:00+02:00", "to": "2026-11-26T00:00:00+02:00"}
NEXT_DAY = {"from": "2026-11-26T00:00:00+02:00", "to": "2026-11-27T00:00:00+02:00"}


async def _starts(client: httpx.AsyncClient, url: str, who: Any, **params: str) -> list[str]:
    response = await client.get(f"{url}/availability", headers=who.headers, params=params)
    assert response.status_code == 200, response.text
    return [slot["starts_at_local"] for slot in response.json()["slots"]]


async def test_a_named_search_sees_its_own_time_off_and_the_business_days_only(
    client: httpx.AsyncClient, db: Database
) -> None:
    shop = await open_bookable_shop(client, barbers=3)
    first, second, third = shop.staff_ids
    owner = shop.owner.headers
    hours = await client.put(f"{shop.url}/weekly-schedule", headers=owner, json=ALL_WEEK_9_TO_18)
    assert hours.status_code == 200, hours.text
    leave = {"starts_at": "2026-11-25T00:00:00+02:00", "ends_at": "2026-11-26T00:00:00+02:00"}
    off = await client.post(f"{shop.url}/staff/{second}/time-off", headers=owner, json=leave)
    assert off.status_code == 201, off.text
    short = {"date": "2026-11-25", "hours": [{"start": "12:00", "end": "13:00"}]}
    special = await client.post(f"{shop.url}/staff/{third}/date-overrides", headers=owner, json=short)
    assert special.status_code == 201, special.text
    closed = await client.post(
        f"{shop.url}/date-overrides", headers=owner, json={"date": "2026-11-26", "closed": True}
    )
    assert closed.status_code == 201, closed.text
    mona = await customer(client)
    query = {"service_id": shop.service_id}

    with statements(db) as sent:
        mine = await _starts(client, shop.url, mona, **query, **TOMORROW, staff_id=first)
    assert len(mine) == 34  # 09:00 .. 17:15 every 15 minutes (30 min + 5 min buffer by 18:00)
    # The context, the tenant, the guard, service and staff, then the calendars (schedules
    # and busy time) in one statement.
    assert len(sent) == 5, sent
    assert await _starts(client, shop.url, mona, **query, **TOMORROW, staff_id=second) == []
    assert await _starts(client, shop.url, mona, **query, **TOMORROW, staff_id=third) == [
        "2026-11-25T12:00:00+02:00",
        "2026-11-25T12:15:00+02:00",
    ]
    anyone = await _starts(client, shop.url, mona, **query, **TOMORROW)
    assert anyone == mine  # the any-staff answer is the union of the three
    for staff_id in shop.staff_ids:
        assert await _starts(client, shop.url, mona, **query, **NEXT_DAY, staff_id=staff_id) == []


async def test_a_staff_member_who_does_not_perform_the_service_is_unknown(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    other = await client.post(f"{shop.url}/staff", headers=shop.owner.headers, json={"display_name": "X"})
    mona = await customer(client)
    for staff_id in (other.json()["id"], str(uuid.uuid4())):
        query = {"service_id": shop.service_id, **TOMORROW, "staff_id": staff_id}
        response = await client.get(f"{shop.url}/availability", headers=mona.headers, params=query)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["rule"] == "unknown_staff"
    query = {"service_id": str(uuid.uuid4()), **TOMORROW, "staff_id": shop.staff_ids[0]}
    response = await client.get(f"{shop.url}/availability", headers=mona.headers, params=query)
    assert response.json()["errors"][0]["rule"] == "unknown_service"


async def test_a_search_sends_the_same_statements_whatever_its_window_and_staff(
    client: httpx.AsyncClient, db: Database
) -> None:
    shop = await open_bookable_shop(client, barbers=3)
    mona = await customer(client)
    window = {"from": "2026-11-25T00:00:00+02:00"}
    counts = {}
    for days, staff in ((1, shop.staff_ids[0]), (62, shop.staff_ids[0]), (1, None), (62, None)):
        query = {"service_id": shop.service_id, **window, "to": f"{_day(25 + days)}T00:00:00+02:00"}
        with statements(db) as sent:
            starts = await _starts(client, shop.url, mona, **query, **({"staff_id": staff} if staff else {}))
        assert starts
        counts[(days, staff is None)] = len(sent)
    assert len(set(counts.values())) == 1, counts


def _day(november: int) -> str:
    """Day `november` counted from 1 November 2026 (past 30: into December and beyond)."""
    return (date(2026, 11, 1) + timedelta(days=november - 1)).isoformat()


async def test_a_window_beyond_62_days_or_outside_sane_years_is_refused(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    cases = [
        ({"from": "2026-11-25T00:00:00+02:00", "to": "2027-01-26T00:00:01+02:00"}, "query.to", "max_window"),
        (
            {"from": "0001-01-01T00:00:00+00:00", "to": "0001-01-02T00:00:00+00:00"},
            "query.from",
            "out_of_range",
        ),
        (
            {"from": "9999-12-30T00:00:00+00:00", "to": "9999-12-31T00:00:00+00:00"},
            "query.from",
            "out_of_range",
        ),
    ]
    for window, field, rule in cases:
        query = {"service_id": shop.service_id, **window}
        response = await client.get(f"{shop.url}/availability", headers=mona.headers, params=query)
        assert response.status_code == 422, response.text
        assert (response.json()["errors"][0]["field"], response.json()["errors"][0]["rule"]) == (field, rule)
    far = {"service_id": shop.service_id, "starts_at": "9999-12-31T23:59:00+00:00"}
    booked = await client.post(f"{shop.url}/bookings", headers=mona.headers, json=far)
    assert booked.status_code == 422, booked.text
    assert booked.json()["errors"][0]["field"] == "body.starts_at"


def test_a_definition_is_parsed_once_per_stored_text() -> None:
    definition = business_types.parse_stored(_barbershop_text())
    assert business_types.parse_stored(_barbershop_text()) is definition
    changed = json.loads(_barbershop_text()) | {"min_notice_minutes": 60}
    again = business_types.parse_stored(json.dumps(changed))
    assert again is not definition
    assert again.min_notice_minutes == 60
    with pytest.raises(ValueError, match="slot grid"):
        business_types.parse_stored(json.dumps(changed | {"slot_grid_minutes": 7}))


def _barbershop_text() -> str:
    from booklnk.business_types.loader import builtin_definitions

    (barbershop,) = [d for d in builtin_definitions() if d.key == "barbershop"]
    return json.dumps(barbershop.model_dump(mode="json"))


async def test_the_guard_resolves_the_rules_in_its_one_query_and_follows_a_changed_definition(
    client: httpx.AsyncClient, db: Database, owner_engine: AsyncEngine
) -> None:
    key = f"perf-{uuid.uuid4().hex[:8]}"
    async with owner_engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO business_type (key, name, mode, source, definition)"
                " SELECT CAST(:key AS text), name, mode, 'api',"
                " jsonb_set(definition, '{key}', to_jsonb(CAST(:key AS text)))"
                " FROM business_type WHERE key = 'barbershop'"
            ),
            {"key": key},
        )
    owner = await sign_up(client, "owner")
    slug = f"biz-{uuid.uuid4().hex[:8]}"
    created = await client.post(
        "/v1/businesses",
        headers=owner.headers,
        json={"name": "Perf", "slug": slug, "business_type": key},
    )
    assert created.status_code == 201, created.text
    business_id = uuid.UUID(created.json()["id"])
    actor = Actor(owner.user_id)

    async def notice() -> tuple[int, int]:
        """The rules on the context the guard builds, and how many statements that took."""
        async with db.transaction(user_id=actor.user_id) as session:
            with statements(db) as sent:
                ctx = await tenancy.access_business(session, actor, business_id, require=None)
            return ctx.rules.min_notice_minutes, len(sent)

    assert await notice() == (0, 2)
    async with owner_engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE business_type SET definition = jsonb_set(definition, '{min_notice_minutes}', '90')"
                " WHERE key = :key"
            ),
            {"key": key},
        )
    assert await notice() == (90, 2)  # a new stored text: validated anew, never a stale parse


def test_the_cached_definition_is_frozen() -> None:
    definition = business_types.parse_stored(_barbershop_text())
    assert isinstance(definition, BusinessTypeDefinition)
    with pytest.raises(ValueError, match="frozen"):
        definition.min_notice_minutes = 5  # type: ignore[misc]


async def test_the_guard_enters_the_tenant_by_a_statement_of_its_own(
    client: httpx.AsyncClient, db: Database
) -> None:
    """Not inside the guard's read: Citus runs that read on a worker, functions and all,
    and a tenant set there would not reach the coordinator (issue 14)."""
    owner = await sign_up(client, "owner")
    slug = f"biz-{uuid.uuid4().hex[:8]}"
    body = {"name": "Perf", "slug": slug, "business_type": "barbershop"}
    created = await client.post("/v1/businesses", headers=owner.headers, json=body)
    business_id = uuid.UUID(created.json()["id"])
    stranger = await sign_up(client, "stranger")
    for who, role in ((owner, "owner"), (stranger, None)):
        actor = Actor(who.user_id)
        async with db.transaction(user_id=actor.user_id) as session:
            with statements(db) as sent:
                ctx = await tenancy.access_business(session, actor, business_id, require=None)
            assert len(sent) == 2, sent
            assert sent[0] == "SELECT booklnk_enter_tenant($1)"
            assert (ctx.role.value if ctx.role else None) == role
            tenant = await session.scalar(text("SELECT current_setting('app.tenant_id', true)"))
            assert tenant == str(business_id)
            # Tenant rows are visible now: the owner's membership through the tenant policy.
            members = await session.scalar(text("SELECT count(*) FROM membership"))
            assert members == 1
        async with db.transaction(user_id=actor.user_id) as session:
            with pytest.raises(BusinessNotFound):
                await tenancy.access_business(session, actor, uuid.uuid4(), require=None)


async def test_a_remembered_token_still_expires_and_a_tampered_one_is_refused(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    account = await sign_up(client)
    for _ in range(2):  # the second time from the memo
        assert (await client.get("/v1/me", headers=account.headers)).status_code == 200
    token = account.headers["Authorization"].removeprefix("Bearer ")
    head, body, signature = token.split(".")
    tampered = f"{head}.{body}.{signature[:-2]}{'AA' if not signature.endswith('AA') else 'BB'}"
    refused = await client.get("/v1/me", headers={"Authorization": f"Bearer {tampered}"})
    assert (refused.status_code, refused.json()["code"]) == (401, "invalid_token")
    clock.advance(timedelta(minutes=16))
    expired = await client.get("/v1/me", headers=account.headers)
    assert (expired.status_code, expired.json()["code"]) == (401, "invalid_token")


async def test_a_booking_takes_eleven_statements(client: httpx.AsyncClient, db: Database) -> None:
    """Each round trip costs both processes a wake-up on a busy machine (bench/stack.py's
    profile: the socket writes were two fifths of a booking's time), so the count is held."""
    shop = await open_bookable_shop(client, barbers=2)
    mona = await customer(client)
    body = {"service_id": shop.service_id, "staff_id": shop.staff_ids[0]}
    first = await client.post(
        f"{shop.url}/bookings", headers=mona.headers, json=body | {"starts_at": "2026-11-25T10:00:00+02:00"}
    )
    assert first.status_code == 201, first.text
    with statements(db) as sent:
        booked = await client.post(
            f"{shop.url}/bookings",
            headers=mona.headers,
            json=body | {"starts_at": "2026-11-25T11:00:00+02:00"},
        )
    assert booked.status_code == 201, booked.text
    assert booked.json()["status"] == "confirmed"
    # The context; the tenant; the guard; service and staff; the calendars (schedules and
    # busy time); the customer's load (its lock and counts); the savepoint; the booking with
    # its allocation and audit; the confirmation's facts; the message with its jobs; webhooks.
    assert len(sent) == 11, "\n".join(sent)
    assert not any(s.startswith(("RELEASE", "SELECT pg_advisory_xact_lock")) for s in sent), sent
