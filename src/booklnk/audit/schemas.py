"""The audit log's API shape."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AuditEventOut(BaseModel):
    at: datetime
    actor_id: uuid.UUID | None = Field(description="Who did it; None when the system did (a job, a webhook).")
    action: str = Field(
        description="What was done: `booking.<action>` for a booking's status changes (`details` has `from` "
        "and `to`), `refund.requested`, `desk.payment`, `desk.refund`, `service.*`, `staff.*`, "
        "`resource.*`, `hours.replaced`, `time_off.*`, `date_override.*`, `business.updated`, "
        "`invitation.*`, `member.*`, `customer.*`, `account.erased`, `export.*`.",
        examples=["booking.cancel"],
    )
    subject_type: str = Field(description="What it was done to: booking, service, staff, customer, …")
    subject_id: str | None
    booking_id: uuid.UUID | None = Field(description="The booking it concerns, if any.")
    details: dict[str, Any] = Field(
        description="What changed (never a secret; of a customer, field names only)."
    )
