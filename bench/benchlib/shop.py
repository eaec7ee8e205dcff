"""The seeded shop: a barbershop with 50 barbers, a service and 200 customers, made through
the public API; then its 20,000 existing bookings, written with SQL."""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from collections.abc import Awaitable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import insert, text
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.booking.models import Allocation, Booking, BookingStatus

from benchlib.output import log
from benchlib.scenario import (
    BLOCK,
    BLOCKS_PER_DAY,
    BOOKED_BLOCKS,
    BUFFER_AFTER,
    CUSTOMERS,
    DURATION,
    HORIZON_DAYS,
    OPENS,
    SEED_DAYS,
    STAFF,
)

# ---------------------------------------------------------------------------- the shop, over HTTP


@dataclass(frozen=True)
class Account:
    user_id: uuid.UUID
    headers: dict[str, str]


@dataclass(frozen=True)
class Shop:
    business_id: uuid.UUID
    service_id: uuid.UUID
    owner: Account
    staff: list[uuid.UUID]  # in the order the API lists them (display name)
    customers: list[Account]
    zone: ZoneInfo
    today: date  # the business's local date at set-up

    @property
    def url(self) -> str:
        return f"/v1/businesses/{self.business_id}"

    def at(self, day: int, clock: clock_time) -> datetime:
        """Local wall-clock `clock` on day `day` after set-up, as an aware local datetime."""
        return datetime.combine(self.today + timedelta(days=day), clock, tzinfo=self.zone)


async def call(http: httpx.AsyncClient, method: str, path: str, body: Any, who: Account | None) -> Any:
    response = await http.request(method, path, json=body, headers=who.headers if who else None)
    if response.status_code not in (200, 201, 202):
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
    return response.json()


_CODE = text(
    "SELECT params->>'code' FROM outbox_message WHERE address = :email AND params ? 'code' ORDER BY seq DESC"
    " LIMIT 1"
)


async def sign_up(http: httpx.AsyncClient, engine: AsyncEngine, name: str) -> Account:
    """Register, then prove the address with the code the outbox holds for it (read from the
    database: the bench measures bookings, not e-mail)."""
    email = f"{name}-{uuid.uuid4().hex[:10]}@bench.example.com"
    await call(http, "POST", "/v1/auth/register", {"email": email}, None)
    async with engine.connect() as conn:
        code = (await conn.execute(_CODE, {"email": email})).scalar_one()
    proof = {"email": email, "code": code, "password": "bench-password-0123", "full_name": name}
    tokens = await call(http, "POST", "/v1/auth/register/verify", proof, None)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = await http.get("/v1/me", headers=headers)
    return Account(uuid.UUID(me.json()["user"]["id"]), headers)


async def bounded(coroutines: Sequence[Awaitable[Any]], limit: int = 8) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(coroutine: Awaitable[Any]) -> Any:
        async with gate:
            return await coroutine

    return await asyncio.gather(*(one(c) for c in coroutines))


async def hire_barbers(http: httpx.AsyncClient, owner: Account, url: str) -> list[uuid.UUID]:
    """50 staff members, each working 09:00-21:00 every day (local time)."""
    week = {"hours": [{"weekday": d, "start": "09:00", "end": "21:00"} for d in range(7)], "breaks": []}

    async def barber(i: int) -> uuid.UUID:
        staff = await call(http, "POST", f"{url}/staff", {"display_name": f"Barber {i:02d}"}, owner)
        await call(http, "PUT", f"{url}/staff/{staff['id']}/weekly-schedule", week, owner)
        return uuid.UUID(staff["id"])

    return await bounded([barber(i) for i in range(STAFF)])


async def open_shop(http: httpx.AsyncClient, engine: AsyncEngine) -> Shop:
    """A barbershop (horizon 90 days), its 50 barbers, one 30-minute service they all
    perform, and 200 customers: all through the public API, as in tests/booking."""
    owner = await sign_up(http, engine, "owner")
    rules = {"horizon_days": HORIZON_DAYS}
    body = {"name": "Bench Cuts", "slug": f"bench-{uuid.uuid4().hex[:8]}", "business_type": "barbershop"}
    business = await call(http, "POST", "/v1/businesses", body | {"rule_overrides": rules}, owner)
    url = f"/v1/businesses/{business['id']}"
    staff = await hire_barbers(http, owner, url)
    service = {"name": "Cut", "price_minor": 15_000, "duration_options_minutes": [30]}
    created = await call(
        http, "POST", f"{url}/services", service | {"staff_ids": list(map(str, staff))}, owner
    )
    customers = await bounded([sign_up(http, engine, f"customer{i}") for i in range(CUSTOMERS)])
    zone = ZoneInfo(business["time_zone"])
    return Shop(
        business_id=uuid.UUID(business["id"]),
        service_id=uuid.UUID(created["id"]),
        owner=owner,
        staff=staff,
        customers=customers,
        zone=zone,
        today=datetime.now(zone).date(),
    )


# ---------------------------------------------------------------------------- seeding by SQL


def seeded_starts(shop: Shop) -> Iterator[tuple[uuid.UUID, datetime]]:
    """On each of days 1..50, each barber has 8 of the day's 16 45-minute blocks booked,
    chosen at random (fixed seed, so every run sees the same calendar). Blocks never
    overlap and the last ends by 20:50 with its buffer, so every row is one the API could
    have written."""
    rng = random.Random(20261124)
    for day, staff_id in itertools.product(range(1, SEED_DAYS + 1), shop.staff):
        opens = shop.at(day, OPENS)
        for block in sorted(rng.sample(range(BLOCKS_PER_DAY), BOOKED_BLOCKS)):
            yield staff_id, (opens + block * BLOCK).astimezone(UTC)


def seeded_rows(shop: Shop, lanes: dict[uuid.UUID, int]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Confirmed bookings and their staff allocations (blocked time: buffer included)."""
    bookings: list[dict[str, Any]] = []
    allocations: list[dict[str, Any]] = []
    common = {"business_id": shop.business_id, "service_id": shop.service_id, "hold_expires_at": None}
    for staff_id, start in seeded_starts(shop):
        booking_id = uuid.uuid4()
        customer = shop.customers[len(bookings) % len(shop.customers)]
        bookings.append(
            common
            | {"id": booking_id, "customer_id": customer.user_id, "staff_id": staff_id}
            | {"status": BookingStatus.CONFIRMED, "starts_at": start, "ends_at": start + DURATION}
            | {"payment_method": None, "price_minor": 15_000, "currency": "EGP", "extra_fields": {}}
            | {"version": 1}
        )
        period = Range(start, start + DURATION + BUFFER_AFTER)
        allocations.append(
            {"business_id": shop.business_id, "booking_id": booking_id, "lane": lanes[staff_id]}
            | {"staff_id": staff_id, "resource_id": None, "period": period, "active": True}
        )
    return bookings, allocations


async def seed_bookings(engine: AsyncEngine, shop: Shop) -> int:
    """Bulk insert as the owner login (the app's rules were followed when making the rows;
    the exclusion constraint still checks every allocation), then ANALYZE as autovacuum would."""
    async with engine.begin() as conn:
        rows = await conn.execute(
            text("SELECT id, lane FROM staff_member WHERE business_id = :b"), {"b": shop.business_id}
        )
        lanes = {row.id: row.lane for row in rows}
    bookings, allocations = seeded_rows(shop, lanes)
    chunk = 4000
    for i in range(0, len(bookings), chunk):
        async with engine.begin() as conn:
            await conn.execute(insert(Booking), bookings[i : i + chunk])
            await conn.execute(insert(Allocation), allocations[i : i + chunk])
        log(f"  seeded {min(i + chunk, len(bookings))}/{len(bookings)} bookings")
    async with engine.begin() as conn:
        await conn.execute(text("ANALYZE booking"))
        await conn.execute(text("ANALYZE allocation"))
    return len(bookings)
