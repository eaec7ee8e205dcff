"""Jobs enqueued in the caller's transaction, one or several in one round trip: they commit
or vanish with it, in order, with their arguments, locks and times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.db.database import Database
from booklnk.db.jobs import GATEWAY_QUEUE, Job, enqueue_many

AT = datetime(2026, 12, 24, 8, 0, tzinfo=UTC)


async def _jobs(owner_engine: AsyncEngine) -> list[tuple[object, ...]]:
    async with owner_engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT id, queue_name, task_name, lock, args->>'n', scheduled_at FROM procrastinate_jobs"
                " ORDER BY id"
            )
        )
        return [tuple(r) for r in rows]


async def test_several_jobs_in_one_call_keep_their_order_and_fields(
    db: Database, owner_engine: AsyncEngine
) -> None:
    jobs = [
        Job("first.task", {"n": "1"}),
        Job("second.task", {"n": "2"}, lock="order:7", scheduled_at=AT, queue=GATEWAY_QUEUE),
        Job("third.task", {"n": "3"}),
    ]
    async with db.transaction() as session:
        ids = await enqueue_many(session, jobs)
        assert await enqueue_many(session, []) == []
    found = await _jobs(owner_engine)
    assert [row[0] for row in found] == ids
    assert [row[1:] for row in found] == [
        ("default", "first.task", None, "1", None),
        (GATEWAY_QUEUE, "second.task", "order:7", "2", AT),
        ("default", "third.task", None, "3", None),
    ]


async def test_they_vanish_with_a_rolled_back_transaction(db: Database, owner_engine: AsyncEngine) -> None:
    async def fail_after_enqueueing() -> None:
        async with db.transaction() as session:
            await enqueue_many(session, [Job("a.task", {"n": "1"}), Job("b.task", {"n": "2"})])
            raise RuntimeError("the caller's work failed")

    with pytest.raises(RuntimeError):
        await fail_after_enqueueing()
    assert await _jobs(owner_engine) == []
