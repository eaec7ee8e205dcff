"""The real worker (procrastinate) in the test process, with Kashier at the simulator."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kashier_support import API_KEY, MID, SECRET_KEY
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.config import Settings
from booklnk.jobs.runtime import Runtime
from booklnk.jobs.tasks import create_job_app


def with_kashier_at(settings: Settings, url: str, *, fep_url: str | None = None) -> Settings:
    """`settings` with every Kashier URL at `url` (the refund API at `fep_url` if given)."""
    return settings.model_copy(
        update={
            "kashier_mid": MID,
            "kashier_api_key": SecretStr(API_KEY),
            "kashier_secret_key": SecretStr(SECRET_KEY),
            "kashier_hpp_url": url,
            "kashier_api_url": url,
            "kashier_fep_url": fep_url or url,
        }
    )


async def run_worker(
    database_url: str, runtime: Runtime, defer: Sequence[tuple[str, Mapping[str, Any]]] = ()
) -> None:
    """Defer the given tasks, then work until no job is due (retries wait for later)."""
    job_app = create_job_app(database_url)
    async with job_app.open_async():
        for task, args in defer:
            await job_app.configure_task(task).defer_async(**args)
        await job_app.run_worker_async(
            wait=False,
            install_signal_handlers=False,
            listen_notify=False,
            additional_context={"runtime": runtime},
        )


async def lose_jobs(engine: AsyncEngine, task: str) -> int:
    """What running out of retries leaves: the task's waiting jobs marked failed."""
    async with engine.begin() as conn:
        result = await conn.execute(
            text("UPDATE procrastinate_jobs SET status = 'failed' WHERE task_name = :t AND status = 'todo'"),
            {"t": task},
        )
    return int(result.rowcount)
