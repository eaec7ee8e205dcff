"""The nightly reconciliation runs as one job per business: a business whose lookups fail
keeps what its run found and is retried alone, the others finish. The real worker
(procrastinate) in this process on the test database, the simulator over real HTTP."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from flow_support import held_booking, open_consultancy, start_checkout
from kashier_support import Sim
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from worker_support import run_worker, with_kashier_at

from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.jobs.runtime import Runtime
from booklnk.jobs.tasks import RECONCILE
from support import FakeClock


@pytest.fixture
def worker_settings(settings: Settings, sim: Sim) -> Settings:
    return with_kashier_at(settings, sim.url)


async def _paid_at_the_gateway(client: httpx.AsyncClient, sim: Sim) -> tuple[uuid.UUID, str]:
    """A business with one order paid at Kashier whose webhook never reached us."""
    consultancy = await open_consultancy(client)
    customer, booking = await held_booking(client, consultancy)
    checkout = await start_checkout(client, consultancy[0], customer, booking)
    await sim.pay(checkout["order_id"], checkout["amount_minor"])
    return uuid.UUID(consultancy[0].rsplit("/", 1)[1]), checkout["order_id"]


async def _rows(engine: AsyncEngine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        return [tuple(r) for r in await conn.execute(text(sql), params)]


async def test_a_business_whose_lookups_time_out_is_retried_alone(
    client: httpx.AsyncClient,
    db: Database,
    clock: FakeClock,
    sim: Sim,
    worker_settings: Settings,
    database_url: str,
    owner_engine: AsyncEngine,
) -> None:
    slow_business, slow_order = await _paid_at_the_gateway(client, sim)
    fine_business, fine_order = await _paid_at_the_gateway(client, sim)
    await sim.faults(slow_order, lookup_delay_seconds=16)  # beyond the worker's 15 s timeout
    tomorrow = int((datetime.now(UTC) + timedelta(days=1)).timestamp())  # its "yesterday" is today

    await run_worker(
        database_url, Runtime(db, clock, worker_settings), [(RECONCILE, {"timestamp": tomorrow})]
    )

    found = await _rows(
        owner_engine,
        "SELECT m.business_id, m.order_id, m.kind::text, m.resolved_at IS NULL FROM reconciliation_mismatch m"
        " ORDER BY m.order_id",
    )
    assert sorted(found) == sorted(
        [
            (slow_business, slow_order, "lookup_failed", True),
            (fine_business, fine_order, "captured_not_recorded", True),
        ]
    )
    jobs = await _rows(
        owner_engine,
        "SELECT args->>'business_id', status::text, attempts FROM procrastinate_jobs"
        " WHERE task_name = 'payments.reconcile_business'",
    )
    # The slow business's job failed after storing its run and waits for its retry.
    assert sorted(jobs) == sorted([(str(slow_business), "todo", 1), (str(fine_business), "succeeded", 1)])
    outcomes = await _rows(owner_engine, "SELECT merchant_order_id, outcome FROM webhook_delivery")
    assert outcomes == [(fine_order, "confirmed")]  # healed and applied by the same worker


async def test_a_deployment_that_reconciles_elsewhere_leaves_the_nightly_job_idle(
    client: httpx.AsyncClient,
    db: Database,
    clock: FakeClock,
    sim: Sim,
    worker_settings: Settings,
    database_url: str,
    owner_engine: AsyncEngine,
) -> None:
    await _paid_at_the_gateway(client, sim)
    tomorrow = int((datetime.now(UTC) + timedelta(days=1)).timestamp())
    elsewhere = worker_settings.model_copy(update={"reconcile_nightly": False})

    await run_worker(database_url, Runtime(db, clock, elsewhere), [(RECONCILE, {"timestamp": tomorrow})])

    assert await _rows(owner_engine, "SELECT id FROM reconciliation_run") == []
    assert (
        await _rows(
            owner_engine, "SELECT id FROM procrastinate_jobs WHERE task_name = 'payments.reconcile_business'"
        )
        == []
    )
