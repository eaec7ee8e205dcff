"""The daily `tenancy.prune` job deletes idempotency records past their 24-hour window,
in every business, and keeps the younger ones."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.jobs.tasks import PRUNE_ACCOUNTS, create_job_app
from support import Account, FakeClock, JobRunner, create_business, sign_up


async def _keyed_booking(client: httpx.AsyncClient, key: str) -> None:
    """A shop whose owner books a cut for themself with `key` (one record in its tenant)."""
    owner = await sign_up(client, "owner")
    base = f"/v1/businesses/{await create_business(client, owner)}"
    staff = await _created(client, owner, f"{base}/staff", {"display_name": "Barber"})
    week = {"hours": [{"weekday": d, "start": "09:00", "end": "18:00"} for d in range(7)], "breaks": []}
    schedule = await client.put(f"{base}/staff/{staff}/weekly-schedule", headers=owner.headers, json=week)
    assert schedule.status_code == 200, schedule.text
    cut = {"name": "Cut", "price_minor": 100, "staff_ids": [staff]}
    service = await _created(client, owner, f"{base}/services", cut)
    body = {"service_id": service, "starts_at": "2026-11-30T10:00:00+02:00"}
    await _created(client, owner, f"{base}/bookings", body, {"Idempotency-Key": key})


async def _created(
    client: httpx.AsyncClient,
    who: Account,
    path: str,
    body: dict[str, object],
    extra: dict[str, str] | None = None,
) -> str:
    response = await client.post(path, headers={**who.headers, **(extra or {})}, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _keys(owner_engine: AsyncEngine) -> set[str]:
    async with owner_engine.connect() as conn:
        return set((await conn.execute(text("SELECT key FROM idempotency_record"))).scalars())


async def test_the_daily_prune_deletes_records_older_than_24_hours_in_every_business(
    client: httpx.AsyncClient,
    clock: FakeClock,
    owner_engine: AsyncEngine,
    database_url: str,
    run_jobs: JobRunner,
) -> None:
    await _keyed_booking(client, "old-in-shop-a")
    await _keyed_booking(client, "old-in-shop-b")
    clock.advance(timedelta(hours=12))
    await _keyed_booking(client, "young")
    clock.advance(timedelta(hours=12))
    assert await _keys(owner_engine) == {"old-in-shop-a", "old-in-shop-b", "young"}

    job_app = create_job_app(database_url)
    async with job_app.open_async():
        await job_app.configure_task(PRUNE_ACCOUNTS).defer_async(timestamp=0)
    await run_jobs()

    assert await _keys(owner_engine) == {"young"}
