"""What every task needs, handed to the worker once (procrastinate's additional context)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from procrastinate import JobContext
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.kernel.clock import Clock
from booklnk.tenancy import repository as tenancy
from booklnk.tenancy.context import Actor, BusinessContext
from booklnk.tenancy.models import Role

# Jobs act for the business itself, with no user behind them.
SYSTEM = Actor(user_id=uuid.UUID(int=0))


@dataclass(frozen=True, slots=True)
class Runtime:
    db: Database
    clock: Clock
    settings: Settings


def runtime_of(context: JobContext) -> Runtime:
    runtime = context.additional_context["runtime"]
    assert isinstance(runtime, Runtime)
    return runtime


async def business_context(session: AsyncSession, business_id: uuid.UUID) -> BusinessContext | None:
    """The business as its own owner, in a transaction already narrowed to its tenant;
    None when it is gone (its jobs then have nothing left to do)."""
    business = await tenancy.get_business(session, business_id)
    if business is None:
        return None
    return BusinessContext(
        actor=SYSTEM,
        business_id=business.id,
        time_zone=business.time_zone,
        business_type_key=business.business_type_key,
        role=Role.OWNER,
    )
