"""The shop of bench/stack.py: a barbershop with a booking team of 50 barbers and their
service, up to 200 more barbers with one 30-minute service per staff-count knob (performed
by the first 1, 5, 50 or 200 of them), made through the public API; the 200's calendar
seeded by SQL on the days the availability table searches; and the distinct free (barber,
start) pairs of the booking team that the booking load walks."""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import insert, text
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.booking.models import Allocation, Booking, BookingStatus

from benchlib.output import log
from benchlib.scenario import BLOCK, BLOCKS_PER_DAY, BOOKED_BLOCKS, BUFFER_AFTER, DURATION, OPENS
from benchlib.shop import Account, Shop, bounded, call, sign_up

BOOKING_STAFF = 50  # the booking load's own team of barbers, as many as bench/booking.py's shop has
HORIZON_DAYS = 90  # the barbershop type's most: the booking team's days 1..89 are all free
# The customer's daily limit (issue 8) raised to the type's most: the load spreads its
# bookings evenly over the customers (800 slots a day: 4 each for 200 customers, 8 for 100).
# The limit is still checked: the advisory lock and the count run on every booking.
DAILY_LIMIT = 10
SEED_CUSTOMERS = 10


@dataclass(frozen=True)
class StackShop:
    shop: Shop  # the booking load's view: its service and its team (BOOKING_STAFF barbers)
    staff: list[uuid.UUID]  # the availability barbers, in the order they were hired
    services: dict[int, uuid.UUID]  # staff count -> the service the first `count` of them perform
    seeded_days: int  # local days D+1 .. D+seeded_days carry their seeded bookings
    # The seeded bookings' customers: none of them books under load, so the load's customers
    # stay within their daily limit (a seeded booking on their day would count against it).
    seed_customers: list[Account]


async def hire(http: httpx.AsyncClient, owner: Account, url: str, names: list[str]) -> list[uuid.UUID]:
    """Barbers, each working 09:00-21:00 every day (local time), in the order named."""
    week = {"hours": [{"weekday": d, "start": "09:00", "end": "21:00"} for d in range(7)], "breaks": []}

    async def barber(name: str) -> uuid.UUID:
        staff = await call(http, "POST", f"{url}/staff", {"display_name": name}, owner)
        await call(http, "PUT", f"{url}/staff/{staff['id']}/weekly-schedule", week, owner)
        return uuid.UUID(staff["id"])

    return await bounded([barber(name) for name in names])


async def offer(
    http: httpx.AsyncClient, owner: Account, url: str, name: str, staff: list[uuid.UUID]
) -> uuid.UUID:
    """A 30-minute service performed by `staff`."""
    body = {"name": name, "price_minor": 15_000, "duration_options_minutes": [30]}
    made = await call(http, "POST", f"{url}/services", body | {"staff_ids": list(map(str, staff))}, owner)
    return uuid.UUID(made["id"])


async def open_stack_shop(
    http: httpx.AsyncClient, engine: AsyncEngine, *, staff_counts: list[int], customers: int, seeded_days: int
) -> StackShop:
    """The business, the booking team and its service, the availability barbers (as many as
    the largest staff count) and one service per staff count, and the customers."""
    owner = await sign_up(http, engine, "owner")
    rules = {"horizon_days": HORIZON_DAYS, "max_bookings_per_customer_per_day": DAILY_LIMIT}
    body = {"name": "Stack Cuts", "slug": f"stack-{uuid.uuid4().hex[:8]}", "business_type": "barbershop"}
    business = await call(http, "POST", "/v1/businesses", body | {"rule_overrides": rules}, owner)
    url = f"/v1/businesses/{business['id']}"
    most = max(staff_counts, default=0)
    log(f"  hiring {BOOKING_STAFF} barbers for the booking load and {most} for availability")
    team = await hire(http, owner, url, [f"Booking {i:02d}" for i in range(BOOKING_STAFF)])
    staff = await hire(http, owner, url, [f"Barber {i:03d}" for i in range(most)])
    booking_service = await offer(http, owner, url, "Cut (booking load)", team)
    services = {
        count: await offer(http, owner, url, f"Cut by {count}", staff[:count]) for count in staff_counts
    }
    log(f"  signing up {customers} customers for the load and {SEED_CUSTOMERS} for the calendar")
    accounts = await bounded([sign_up(http, engine, f"customer{i}") for i in range(customers)])
    seeders = await bounded([sign_up(http, engine, f"regular{i}") for i in range(SEED_CUSTOMERS)])
    zone = ZoneInfo(business["time_zone"])
    shop = Shop(
        business_id=uuid.UUID(business["id"]),
        service_id=booking_service,
        owner=owner,
        staff=team,
        customers=accounts,
        zone=zone,
        today=datetime.now(zone).date(),
    )
    seeded_days = seeded_days if staff else 0
    return StackShop(
        shop=shop, staff=staff, services=services, seeded_days=seeded_days, seed_customers=seeders
    )


# ---------------------------------------------------------------------------- the calendar, by SQL


def seeded_starts(stack: StackShop) -> Iterator[tuple[uuid.UUID, datetime]]:
    """As bench/booking.py's calendar: on each seeded day each barber has 8 of the day's 16
    45-minute blocks booked, at random with a fixed seed; no two overlap on a lane."""
    rng = random.Random(20261206)
    for day, staff_id in itertools.product(range(1, stack.seeded_days + 1), stack.staff):
        opens = stack.shop.at(day, OPENS)
        for block in sorted(rng.sample(range(BLOCKS_PER_DAY), BOOKED_BLOCKS)):
            yield staff_id, (opens + block * BLOCK).astimezone(UTC)


def seeded_rows(
    stack: StackShop, lanes: dict[uuid.UUID, int]
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    shop = stack.shop
    common: dict[str, Any] = {"business_id": shop.business_id, "hold_expires_at": None, "extra_fields": {}}
    common |= {"service_id": stack.services[max(stack.services, default=0)], "payment_method": None}
    for n, (staff_id, start) in enumerate(seeded_starts(stack)):
        booking_id = uuid.uuid4()
        customer = stack.seed_customers[n % len(stack.seed_customers)]
        booking: dict[str, Any] = common | {
            "id": booking_id,
            "customer_id": customer.user_id,
            "staff_id": staff_id,
        }
        booking |= {"status": BookingStatus.CONFIRMED, "starts_at": start, "ends_at": start + DURATION}
        booking |= {"price_minor": 15_000, "currency": "EGP", "version": 1}
        allocation: dict[str, Any] = {
            "business_id": shop.business_id,
            "booking_id": booking_id,
            "lane": lanes[staff_id],
        }
        allocation |= {"staff_id": staff_id, "resource_id": None, "active": True}
        allocation |= {"period": Range(start, start + DURATION + BUFFER_AFTER)}
        yield booking, allocation


async def seed_calendar(engine: AsyncEngine, stack: StackShop) -> int:
    """Bulk insert as the owner login (the exclusion constraint still checks every row),
    then ANALYZE as autovacuum would."""
    if not stack.staff or not stack.seeded_days:
        return 0
    async with engine.begin() as conn:
        rows = await conn.execute(
            text("SELECT id, lane FROM staff_member WHERE business_id = :b"), {"b": stack.shop.business_id}
        )
        lanes = {row.id: row.lane for row in rows}
    total, chunk = 0, 5000
    rows_iter = seeded_rows(stack, lanes)
    while batch := list(itertools.islice(rows_iter, chunk)):
        async with engine.begin() as conn:
            await conn.execute(insert(Booking), [b for b, _ in batch])
            await conn.execute(insert(Allocation), [a for _, a in batch])
        total += len(batch)
        if total % 20_000 < chunk:
            log(f"  seeded {total:,} bookings")
    async with engine.begin() as conn:
        await conn.execute(text("ANALYZE booking"))
        await conn.execute(text("ANALYZE allocation"))
    return total


# ---------------------------------------------------------------------------- the booking load's slots


def free_starts(stack: StackShop) -> list[str]:
    """Every block start (45 minutes apart, from 09:00) on days 1..89, in order: with the
    booking team, slot i is (barber i % 50, start i // 50). The team's calendar is empty, so
    none of them can conflict with another."""
    shop = stack.shop
    days = range(1, HORIZON_DAYS)
    return [
        (shop.at(day, OPENS) + block * BLOCK).isoformat() for day in days for block in range(BLOCKS_PER_DAY)
    ]


def free_slot_count(stack: StackShop) -> int:
    return len(free_starts(stack)) * len(stack.shop.staff)


def day_window(stack: StackShop, days: int) -> tuple[datetime, datetime]:
    """From local midnight tomorrow (the first seeded day), `days` days long."""
    start = stack.shop.at(1, clock_time(0))
    return start, start + timedelta(days=days)
