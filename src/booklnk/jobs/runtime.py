"""What every task needs, handed to the worker once (procrastinate's additional context)."""

from __future__ import annotations

from dataclasses import dataclass

from procrastinate import JobContext

from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.kernel.clock import Clock


@dataclass(frozen=True, slots=True)
class Runtime:
    db: Database
    clock: Clock
    settings: Settings


def runtime_of(context: JobContext) -> Runtime:
    runtime = context.additional_context["runtime"]
    assert isinstance(runtime, Runtime)
    return runtime
