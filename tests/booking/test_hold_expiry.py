"""Held appointments expire through the real worker, and their expiry job is enqueued in
the very transaction that creates the hold (no job without a booking, none missing)."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import httpx
from asgi_correlation_id import correlation_id
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booking_support import book, customer, open_bookable_shop
from citus_cluster import not_on_citus
from support import FakeClock, JobRunner

START = "2026-11-26T10:00:00+02:00"  # the consultant type needs 12 hours' notice
REQUEST = "5f2c1b0a9e8d4c7b6a5f4e3d2c1b0a9e"


async def _expiry_jobs(owner_engine: AsyncEngine) -> list[str]:
    async with owner_engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT args->>'booking_id' FROM procrastinate_jobs WHERE task_name = 'booking.expire_hold'")
        )
        return [row[0] for row in rows]


def _lapsed_by_expiry_job() -> float:
    return REGISTRY.get_sample_value("booklnk_holds_lapsed_total", {"by": "expiry_job"}) or 0.0


async def test_a_hold_expires_by_its_job_and_frees_its_time(
    client: httpx.AsyncClient,
    run_jobs: JobRunner,
    clock: FakeClock,
    owner_engine: AsyncEngine,
    log_stream: io.StringIO,
) -> None:
    shop = await open_bookable_shop(client, business_type="consultant", barbers=1, durations=[60])
    mona = await customer(client)
    held = await client.post(
        f"{shop.url}/bookings",
        headers={**mona.headers, "X-Request-ID": REQUEST},
        json={
            "service_id": shop.service_id,
            "starts_at": START,
            "payment_method": "card",
            "extra_fields": {"topic": "Growth"},
        },
    )
    assert held.status_code == 201, held.text
    assert await _expiry_jobs(owner_engine) == [held.json()["id"]]

    async with owner_engine.connect() as conn:
        carried = await conn.scalar(
            text("SELECT args->>'request_id' FROM procrastinate_jobs WHERE task_name = 'booking.expire_hold'")
        )
    assert carried == REQUEST
    # (The in-process client leaves the request's id set in this task: clear it, so that
    # only the job's own carried id can reach its log line.)
    correlation_id.set(None)
    lapsed_before = _lapsed_by_expiry_job()
    clock.advance(timedelta(minutes=16))
    await run_jobs()
    assert _lapsed_by_expiry_job() - lapsed_before == 1  # (the worker's metric)
    # The job's log line quotes the request that booked the hold.
    lines = [json.loads(line) for line in log_stream.getvalue().splitlines()]
    assert [line["request_id"] for line in lines if line["event"] == "hold_lapsed"] == [REQUEST]
    async with owner_engine.connect() as conn:  # (the access tokens have expired too)
        status = await conn.scalar(text("SELECT status FROM booking WHERE id = :b"), {"b": held.json()["id"]})
        active = await conn.scalar(
            text("SELECT count(*) FROM allocation WHERE booking_id = :b AND active"), {"b": held.json()["id"]}
        )
    assert (status, active) == ("expired", 0)


@not_on_citus("Citus refuses triggers on its tables (the failure is made by one)")
async def test_no_job_is_left_behind_by_a_booking_that_failed(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    shop = await open_bookable_shop(client, business_type="consultant", barbers=1, durations=[60])
    first = await book(
        client, shop, await customer(client), START, payment_method="card", extra_fields={"topic": "A"}
    )
    assert first.status_code == 201
    # A booking whose commit fails (a deferred trigger refuses the topic "B" at COMMIT, after
    # the hold and its expiry job were written): its job goes with it.
    async with owner_engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE FUNCTION test_refuse_b() RETURNS trigger LANGUAGE plpgsql AS"
                " $$ BEGIN IF NEW.extra_fields->>'topic' = 'B' THEN RAISE EXCEPTION 'refused'; END IF;"
                " RETURN NULL; END $$"
            )
        )
        await conn.execute(
            text(
                "CREATE CONSTRAINT TRIGGER test_refuse_b AFTER INSERT ON booking"
                " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_refuse_b()"
            )
        )
    try:
        failed = await book(
            client,
            shop,
            await customer(client),
            "2026-11-26T14:00:00+02:00",
            payment_method="card",
            extra_fields={"topic": "B"},
        )
    finally:
        async with owner_engine.begin() as conn:
            await conn.execute(text("DROP TRIGGER test_refuse_b ON booking"))
            await conn.execute(text("DROP FUNCTION test_refuse_b()"))
    assert failed.status_code == 500
    confirmed = await book(
        client,
        shop,
        await customer(client),
        "2026-11-26T12:00:00+02:00",
        extra_fields={"topic": "C"},
        payment_method="card",
    )
    assert confirmed.status_code == 201
    assert sorted(await _expiry_jobs(owner_engine)) == sorted([first.json()["id"], confirmed.json()["id"]])
    async with owner_engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM booking WHERE extra_fields->>'topic' = 'B'")) == 0
