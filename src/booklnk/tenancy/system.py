"""The business acting for itself (jobs, webhooks): no user behind it."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.tenancy import repository
from booklnk.tenancy.context import Actor, BusinessContext
from booklnk.tenancy.models import Business, Role
from booklnk.tenancy.service import context_for

SYSTEM = Actor(user_id=uuid.UUID(int=0))


async def system_context(session: AsyncSession, business_id: uuid.UUID) -> BusinessContext | None:
    """The business as its own owner, in a transaction already narrowed to its tenant;
    None when it is gone (its jobs then have nothing left to do)."""
    found = await repository.get_business_with_type(session, business_id)
    if found is None:
        return None
    business, definition = found
    return context_for(business, definition, actor=SYSTEM, role=Role.OWNER)


async def business_ids(session: AsyncSession) -> list[uuid.UUID]:
    """Every business, for jobs that visit each tenant in turn (businesses are public)."""
    return list((await session.execute(select(Business.id).order_by(Business.id))).scalars())
