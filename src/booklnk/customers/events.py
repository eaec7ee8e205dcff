"""What integrators hear of customer records (outgoing webhooks): `customer.created`, when
staff add one or an account's first booking in the business makes one. Ids only, as a
booking's events carry no name, e-mail or phone: an integrator reads the record with the
owner's token."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.integrations import events

CREATED = "customer.created"


async def created(
    session: AsyncSession,
    business_id: uuid.UUID,
    record_id: uuid.UUID,
    *,
    account_id: uuid.UUID | None,
    now: datetime,
) -> None:
    data = {
        "id": str(record_id),
        "business_id": str(business_id),
        "account_id": str(account_id) if account_id else None,
    }
    await events.record(session, business_id, CREATED, data, now=now)
