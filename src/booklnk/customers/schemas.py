"""API shapes of customer records (never the table class).

PATCH: an omitted field is left unchanged; `null` clears `phone`, `email` and (for a
record with an account) `name`; the other fields may be omitted but not null.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
)

from booklnk.catalog.schemas import Flag, PatchBody
from booklnk.tenancy.schemas import Name, Phone

Notes = Annotated[str, StringConstraints(max_length=2000)]
Tag = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=40),
    Field(examples=["vip", "يفضل الصباح"]),
]


def _distinct(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


Tags = Annotated[
    list[Tag],
    Field(max_length=20, description="Up to 20 labels of 1-40 characters."),
    AfterValidator(_distinct),
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerCreate(_In):
    name: Name
    phone: Phone | None = Field(
        default=None,
        description="Their mobile. One record per number in a business (409 `customer_exists`); once an "
        "account proves it and books here (or staff book them), the record is that account's.",
    )
    email: EmailStr | None = None
    notes: Notes = ""
    tags: Tags = Field(default_factory=list)
    marketing_consent: Flag = Field(
        default=False, description="They agreed to be sent offers (booking messages need no consent)."
    )


class CustomerUpdate(PatchBody):
    NOT_NULLABLE: ClassVar[frozenset[str]] = frozenset({"notes", "tags", "marketing_consent"})

    name: Name | None = None
    phone: Phone | None = None
    email: EmailStr | None = None
    notes: Notes | None = None
    tags: Tags | None = None
    marketing_consent: Flag | None = None


class CustomerHistoryOut(BaseModel):
    visits: int = Field(description="Bookings completed or checked in.")
    upcoming: int = Field(description="Bookings held or confirmed, not yet started.")
    no_shows: int
    late_cancellations: int = Field(
        description="Bookings they cancelled themselves after the free cancellation window."
    )
    last_visit_at: datetime | None
    total_paid_minor: int = Field(description="Paid (by card, wallet or at the desk) less refunds.")
    currency: str


class CustomerOut(BaseModel):
    id: uuid.UUID
    account_id: uuid.UUID | None = Field(
        description="The account this record is of (book them with `customer_record_id`); None for a "
        "walk-in without one."
    )
    name: str = Field(description="Staff's name for them, else the account's.")
    phone: str | None = Field(description="Staff's number for them, else the account's proven one (E.164).")
    email: str | None = Field(description="As staff wrote it (an account's own e-mail is not shown).")
    notes: str
    tags: list[str]
    marketing_consent: bool
    version: int = Field(description="Send it back in `If-Match` to change the record.")
    created_at: datetime
    history: CustomerHistoryOut | None = Field(
        default=None, description="Their bookings here: in a record read alone, and in lists."
    )
