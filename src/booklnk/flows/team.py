"""A member removed from a business. The staff member their account was linked to stays,
with its calendar and bookings, linked to no account: unlinked first, then the membership
removed, as one step that a refusal (the last owner) undoes whole. The schema's foreign
key refuses a removal that left the link (migration 0031: Citus does not accept the
`ON DELETE SET NULL (user_id)` that did this before)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.catalog import service as catalog
from booklnk.tenancy import service as tenancy
from booklnk.tenancy.context import BusinessContext


async def remove_member(session: AsyncSession, ctx: BusinessContext, user_id: uuid.UUID) -> None:
    # A savepoint, because the caller's transaction goes on after a refusal (the web form
    # answers it on a page and commits): the unlink must not outlive a refused removal.
    async with session.begin_nested():
        await catalog.unlink_account(session, ctx, user_id)
        await tenancy.remove_member(session, ctx, user_id)
