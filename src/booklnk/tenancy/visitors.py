"""Visitors: someone without an account looking at a business's public booking page."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.db.database import set_tenant
from booklnk.tenancy import repository
from booklnk.tenancy.context import Actor, BusinessContext
from booklnk.tenancy.errors import BusinessNotFound
from booklnk.tenancy.models import Business
from booklnk.tenancy.service import context_for

# No account stands behind a visitor: an id no account has (and not SYSTEM's), so anything
# that would write in a visitor's name fails on its foreign key instead of passing as
# someone. The role is None, a customer's: reads show active rows and bookable times only.
VISITOR = Actor(user_id=uuid.UUID(int=1))


@dataclass(frozen=True, slots=True)
class Visit:
    business: Business
    ctx: BusinessContext


async def visit_business(session: AsyncSession, slug: str) -> Visit:
    """Enter the business with this slug as a visitor (404 `business_not_found` if none);
    the transaction's tenant is that business from here on, so row-level security lets the
    reads that follow see its rows and no other's."""
    found = await repository.business_by_slug(session, slug)
    if found is None:
        raise BusinessNotFound("No business has this address.")
    business, definition = found
    await set_tenant(session, business.id)
    return Visit(business, context_for(business, definition, actor=VISITOR, role=None))
