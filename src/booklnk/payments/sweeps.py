"""Payment work whose job is gone: a refund intent whose sending ran out of retries (it
would stay `requested` or `sending` for ever) and a delivery whose application died (it
would stay unapplied). A periodic sweep queues each again when no job of its own is
waiting or running; both jobs re-read the state and do only what is left, so the worst a
needless requeue costs is a run that does nothing.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.db.jobs import without_live_job
from booklnk.payments import refunds, webhooks
from booklnk.payments.models import RefundIntent

# Rows and their jobs commit together, so "no live job" already means lost; the age only
# keeps the sweep away from work that is seconds old.
STUCK_AFTER = timedelta(minutes=5)
BATCH = 500

_STUCK_DELIVERIES = text(
    "SELECT d.id, d.merchant_order_id, d.event FROM webhook_delivery d"
    " WHERE d.applied_at IS NULL AND d.received_at < now() - CAST(:age AS interval) AND "
    + without_live_job("d.id::text", "delivery_id")
    + " ORDER BY d.id LIMIT :batch"
)
_STUCK_INTENTS = text(
    "SELECT i.id, a.order_id FROM refund_intent i"
    " JOIN payment_attempt a ON a.business_id = i.business_id AND a.id = i.attempt_id"
    " WHERE i.business_id = :business AND i.status IN ('requested', 'sending')"
    " AND i.updated_at < now() - CAST(:age AS interval) AND "
    + without_live_job("i.id::text", "intent_id")
    + " ORDER BY i.created_at LIMIT :batch"
)


async def requeue_deliveries(session: AsyncSession, *, older_than: timedelta = STUCK_AFTER) -> int:
    """Queue the application of every unapplied delivery that has no job; how many."""
    rows = await session.execute(
        _STUCK_DELIVERIES,
        {"task": webhooks.APPLY_WEBHOOK, "age": older_than, "batch": BATCH},
    )
    stuck = rows.all()
    for delivery_id, order_id, event in stuck:
        await webhooks.enqueue_application(session, delivery_id, order_id, event)
    return len(stuck)


async def requeue_refunds(
    session: AsyncSession, business_id: uuid.UUID, *, older_than: timedelta = STUCK_AFTER
) -> int:
    """Queue the sending of every unsent (or maybe sent) intent that has no job; how many.
    A `sending` one is looked up at the gateway before any second call."""
    rows = await session.execute(
        _STUCK_INTENTS,
        {
            "business": business_id,
            "task": refunds.SEND_REFUND,
            "age": older_than,
            "batch": BATCH,
        },
    )
    stuck = rows.all()
    for intent_id, order_id in stuck:
        intent = await session.get(RefundIntent, (business_id, intent_id))
        assert intent is not None  # just read in this transaction
        await refunds.enqueue_sending(session, intent, order_id)
    return len(stuck)
