"""All SQL of the notifications domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.db.pagination import fetch_page
from booklnk.notifications.models import MessageAttempt, MessageStatus, OutboxMessage


async def lock_message(session: AsyncSession, message_id: uuid.UUID) -> OutboxMessage | None:
    found = await session.execute(
        select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update()
    )
    return found.scalar_one_or_none()


def add_attempt(
    session: AsyncSession,
    message_id: uuid.UUID,
    number: int,
    *,
    business_id: uuid.UUID | None,
    at: datetime,
    outcome: str,
    detail: str,
) -> None:
    session.add(
        MessageAttempt(
            message_id=message_id,
            number=number,
            business_id=business_id,
            at=at,
            outcome=outcome,
            detail=detail,
        )
    )


async def booking_messages_page(
    session: AsyncSession, business_id: uuid.UUID, booking_id: uuid.UUID, *, cursor: str | None, limit: int
) -> tuple[list[OutboxMessage], dict[uuid.UUID, list[MessageAttempt]], str | None]:
    """A booking's messages in the order recorded, with their attempts (two queries)."""
    stmt = select(OutboxMessage).where(
        OutboxMessage.business_id == business_id, OutboxMessage.booking_id == booking_id
    )
    messages, next_cursor = await fetch_page(
        session, stmt, order_by=[OutboxMessage.seq], cursor=cursor, limit=limit
    )
    attempts: dict[uuid.UUID, list[MessageAttempt]] = {m.id: [] for m in messages}
    if messages:
        found = await session.execute(
            select(MessageAttempt)
            .where(MessageAttempt.message_id.in_(list(attempts)))
            .order_by(MessageAttempt.message_id, MessageAttempt.number)
        )
        for attempt in found.scalars():
            attempts[attempt.message_id].append(attempt)
    return messages, attempts, next_cursor


async def forget_recipient(
    session: AsyncSession, business_id: uuid.UUID | None, user_id: uuid.UUID, addresses: Sequence[str]
) -> None:
    """A deleted account's messages in one business (None: the platform's), inside that
    tenant: those to the account or to any of its `addresses` (codes sent before it
    existed, invitations), their addresses and contents erased, what was still to send
    never sent. That they were sent, when and how stays in the business's log."""
    to_them = or_(
        OutboxMessage.user_id == user_id,
        func.lower(OutboxMessage.address).in_([address.lower() for address in addresses]),
    )
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.business_id.is_not_distinct_from(business_id), to_them)
        .values(
            address="",
            params={},
            fallbacks=[],
            status=case(
                (OutboxMessage.status == MessageStatus.PENDING, MessageStatus.EXPIRED),
                else_=OutboxMessage.status,
            ),
        )
    )
