"""(a) Availability latency: the engine alone, prepare+engine in-process, and the HTTP
route, for 14 and 31 days, one named staff member or any of 50."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import Any

import httpx

from booklnk.booking import availability
from booklnk.db.database import Database
from booklnk.scheduling.availability import list_slots
from booklnk.scheduling.intervals import Interval
from booklnk.tenancy.context import Actor
from booklnk.tenancy.service import access_business

from benchlib.scenario import STAFF, Budget
from benchlib.shop import Shop
from benchlib.stats import latency, sample


@dataclass(frozen=True)
class Case:
    days: int
    staff_id: uuid.UUID | None  # None: any of the 50

    @property
    def label(self) -> str:
        return f"{self.days} days, {'one named staff' if self.staff_id else f'any of {STAFF} staff'}"


def window_of(shop: Shop, case: Case) -> tuple[datetime, datetime]:
    """From local midnight tomorrow (the first seeded day), `case.days` days long."""
    start = shop.at(1, clock_time(0))
    return start, start + timedelta(days=case.days)


async def search_in_process(db: Database, shop: Shop, case: Case) -> tuple[float, availability.Offer]:
    """The route's work minus HTTP, auth and serialization: `search` (= prepare, i.e. the
    queries and schedule expansion, then list_slots), timed; and the engine's request."""
    actor = Actor(shop.owner.user_id)
    # A fresh transaction each time, as a request has: nothing cached in the session.
    async with db.transaction(user_id=actor.user_id) as session:
        ctx = await access_business(session, actor, shop.business_id, require=None)
        began = time.perf_counter()
        offer, _ = await availability.search(
            session,
            ctx,
            service_id=shop.service_id,
            staff_id=case.staff_id,
            duration_minutes=None,
            window=Interval(*window_of(shop, case)),
            now=datetime.now(UTC),
        )
        return time.perf_counter() - began, offer


async def measure_availability(
    db: Database, http: httpx.AsyncClient, shop: Shop, case: Case, budget: Budget
) -> dict[str, Any]:
    window = Interval(*window_of(shop, case))
    _, offer = await search_in_process(db, shop, case)

    async def engine() -> float:
        began = time.perf_counter()
        list_slots(offer.request, window)  # the AvailabilityRequest is built once, above
        return time.perf_counter() - began

    async def in_process() -> float:
        return (await search_in_process(db, shop, case))[0]

    engine_samples = await sample(engine, budget.engine)
    full_samples = await sample(in_process, budget.in_process)
    http_samples, shape = await measure_http_availability(http, shop, case, budget)
    return {
        "case": case.label,
        "days": case.days,
        "staff": "one" if case.staff_id else "any",
        "engine_slots": len(list_slots(offer.request, window)),
        **shape,
        "engine": latency(engine_samples),
        "in_process": latency(full_samples),
        "http": latency(http_samples),
    }


async def measure_http_availability(
    http: httpx.AsyncClient, shop: Shop, case: Case, budget: Budget
) -> tuple[list[float], dict[str, Any]]:
    start, end = window_of(shop, case)
    params = {"service_id": str(shop.service_id), "from": start.isoformat(), "to": end.isoformat()}
    if case.staff_id:
        params["staff_id"] = str(case.staff_id)
    shape: dict[str, Any] = {}
    statuses: Counter[int] = Counter()

    async def get() -> float:
        began = time.perf_counter()
        response = await http.get(f"{shop.url}/availability", params=params, headers=shop.owner.headers)
        body = response.content  # read fully: the client's time to receive is part of the figure
        elapsed = time.perf_counter() - began
        statuses[response.status_code] += 1
        if response.status_code == 200 and not shape:
            shape.update(http_slots=len(response.json()["slots"]), response_kib=len(body) / 1024)
        return elapsed

    samples = await sample(get, budget.http)
    shape["http_statuses"] = {str(k): v for k, v in statuses.items()}
    return samples, shape
