"""The suite's job runner (`run_jobs`) runs what tests queued, and periodic jobs only when a
test asks: a procrastinate worker defers its periodic jobs as it starts, by the real
minute, which made a hold's expiry depend on the wall clock (a CI run once swept a hold
that the test had just shown no job would touch)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.db.database import Database
from booklnk.jobs.tasks import SWEEP_LAPSED_HOLDS
from support import JobRunner


async def test_a_run_defers_no_periodic_job_unless_asked(
    db: Database, run_jobs: JobRunner, owner_engine: AsyncEngine
) -> None:
    await run_jobs()
    async with owner_engine.connect() as conn:
        deferred = await conn.scalar(text("SELECT count(*) FROM procrastinate_jobs"))
    assert deferred == 0
    await run_jobs(sweep=True)
    async with owner_engine.connect() as conn:
        swept = await conn.scalar(
            text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = :name"),
            {"name": SWEEP_LAPSED_HOLDS},
        )
    assert swept == 1
