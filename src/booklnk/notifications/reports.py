"""What providers report after accepting a message (WhatsApp's status webhooks, an SMS
gateway's delivery reports): each report kept once, the message's delivery status moved
forward only, and a message its channel could not deliver handed to the next channel.

Reports repeat and arrive in any order: a report is keyed by its message and status (a
repeat is a no-op), and a `delivered` after a `read` does not move the status back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.dialects.postgresql import insert

from booklnk.db.database import Database
from booklnk.notifications import repository
from booklnk.notifications.delivery import erased, fall_back, parse_reference
from booklnk.notifications.models import DeliveryReport, MessageStatus

Status = Literal["sent", "delivered", "read", "failed", "undelivered"]
# How far along each status is; a failure ends the story.
_PROGRESS: dict[str, int] = {"sent": 1, "delivered": 2, "read": 3, "failed": 4, "undelivered": 4}


@dataclass(frozen=True, slots=True)
class Report:
    reference: str  # ours, handed back by the provider (`delivery.reference`)
    status: Status
    at: datetime
    error_code: int | None = None


Applied = Literal["applied", "repeat", "unknown"]


def advanced(current: str | None, reported: Status) -> str:
    """The status after `reported` arrives: never back (a late `delivered` after `read`),
    and a failure stays the last word."""
    return reported if _PROGRESS[reported] > _PROGRESS.get(current or "", 0) else current or reported


async def apply(db: Database, report: Report, *, now: datetime) -> Applied:
    """Keep `report` against its message; "unknown" when the reference names no message
    (of ours, in its tenant)."""
    found = parse_reference(report.reference)
    if found is None:
        return "unknown"
    business_id, message_id = found
    async with db.transaction(tenant_id=business_id) as session:
        message = await repository.lock_message(session, message_id)
        if message is None:
            return "unknown"
        inserted = await session.execute(
            insert(DeliveryReport)
            .values(
                message_id=message_id,
                status=report.status,
                business_id=business_id,
                at=report.at,
                received_at=now,
                error_code=report.error_code,
            )
            .on_conflict_do_nothing()
            .returning(DeliveryReport.status)
        )
        if inserted.scalar_one_or_none() is None:
            return "repeat"
        if advanced(message.delivery_status, report.status) != message.delivery_status:
            message.delivery_status, message.delivery_status_at = report.status, report.at
        if report.status in ("failed", "undelivered") and message.status is MessageStatus.SENT:
            await fall_back(session, message, now=now)
        elif report.status in ("delivered", "read"):
            message.params = erased(message.params)
        await session.flush()
        return "applied"
