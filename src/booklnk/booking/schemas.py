"""API shapes for availability and bookings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints

from booklnk.booking.models import BookingStatus
from booklnk.catalog.schemas import Instant

DurationMinutes = Annotated[int, Strict(), Field(ge=1, le=1440)]
GuestName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


# The API's one time convention: an instant (`starts_at`) is in UTC; beside it, the same
# instant in the business's local time (`starts_at_local`, with its offset) for display.
UTC_INSTANT = "In UTC."
LOCAL_INSTANT = "The same instant in the business's local time, with its UTC offset (for display)."


class SlotOut(BaseModel):
    starts_at: datetime = Field(description=UTC_INSTANT)
    ends_at: datetime = Field(description=UTC_INSTANT)
    starts_at_local: datetime = Field(description=LOCAL_INSTANT)
    ends_at_local: datetime = Field(description=LOCAL_INSTANT)
    staff_ids: list[uuid.UUID] = Field(description="Who can take it, in the order they are tried.")
    resource_ids: dict[str, list[uuid.UUID]] = Field(description="Per required resource kind, the free ones.")


class AvailabilityOut(BaseModel):
    mode: Literal["appointment"]  # required: the discriminator of the availability answer
    time_zone: str
    service_id: uuid.UUID
    duration_minutes: int
    slots: list[SlotOut]


class CompactAvailabilityOut(BaseModel):
    """The availability search's starts with each staff member, each resource and each
    distinct set of them written once, and the starts as columns (the three lists, and each
    kind's list in `resource_set`, have one entry per start, in order): for long windows
    and large crews."""

    time_zone: str
    service_id: uuid.UUID
    duration_minutes: int
    staff_ids: list[uuid.UUID] = Field(description="Everyone free at some start, each once, by display name.")
    resource_ids: dict[str, list[uuid.UUID]] = Field(
        description="Per required resource kind, every one free at some start, each once, by name (empty "
        "when the service needs no resource)."
    )
    staff_sets: list[str] = Field(
        description="Distinct sets of staff, each a hexadecimal bit mask over `staff_ids`: bit i (the lowest "
        "first) is set when `staff_ids[i]` is in the set. E.g. `5` (binary 101): the first and the third."
    )
    resource_sets: dict[str, list[str]] = Field(
        description="Per kind, distinct sets of `resource_ids[kind]`, as bit masks like `staff_sets`."
    )
    starts_at_local: list[datetime] = Field(
        description="Each start in the business's local time with its UTC offset (an exact instant); it "
        "ends `duration_minutes` later."
    )
    staff_set: list[int] = Field(description="For each start, who can take it: a position in `staff_sets`.")
    resource_set: dict[str, list[int]] = Field(
        description="Per required resource kind, for each start, the free ones: a position in "
        "`resource_sets[kind]`."
    )


class BookingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_id: uuid.UUID
    starts_at: Instant | None = Field(
        default=None, description="A start offered by the availability search (omit for a walk-in)."
    )
    staff_id: uuid.UUID | None = Field(default=None, description="Omit for any qualified staff member.")
    duration_minutes: DurationMinutes | None = Field(
        default=None, description="One of the service's options; default its first."
    )
    payment_method: Literal["card", "wallet", "fawry"] | None = Field(
        default=None, description="Required when the business asks for payment up front."
    )
    extra_fields: dict[str, Any] = Field(default_factory=dict, description="Per the business type's schema.")
    customer_id: uuid.UUID | None = Field(
        default=None,
        description="Staff only: book for one of the business's customers (an account that has booked "
        "here before); anyone else answers 422 `unknown_customer`: book them by `guest_name`.",
    )
    guest_name: GuestName | None = Field(
        default=None,
        description="Staff only: book for someone without an account, by name (no record is kept: to "
        "keep their history, add them at /v1/businesses/{business_id}/customers and book by "
        "`customer_record_id`).",
    )
    customer_record_id: uuid.UUID | None = Field(
        default=None,
        description="Staff only: book for one of the business's customer records (404 `customer_not_found` "
        "otherwise). A record with an account (or whose number an account has proven since) books that "
        "account, which sees the booking and is sent its messages; a walk-in's books their name.",
    )
    walk_in: bool = Field(
        default=False,
        description="Staff only: the customer is here. The booking starts now (off the slot grid, inside "
        "any minimum notice), is born `checked_in`, asks for nothing up front whatever the payment policy, "
        "and is paid at the desk. Needs `customer_id`, `customer_record_id` or `guest_name`; `starts_at` is "
        "ignored.",
    )


class BookingMove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: Instant = Field(description="The new start, as offered by the availability search.")
    staff_id: uuid.UUID | None = Field(default=None, description="Omit for any qualified staff member.")
    duration_minutes: DurationMinutes | None = Field(
        default=None, description="Default: the booking's current length."
    )


class CancellationOut(BaseModel):
    by: Literal["customer", "business"]
    within_free_window: bool
    refund_percent: int = Field(
        description="The share of what was paid that the policy gives back: 100 within the free window or "
        "when the business cancels; the type's late-cancellation share after the window."
    )
    refundable: bool
    refund_minor: int | None = Field(
        default=None, description="What is being refunded to the customer's payment method (if it was paid)."
    )
    desk_refund_due_minor: int = Field(
        default=0,
        description="The policy's share of what was paid at the desk: hand it back and record it as a desk "
        "refund.",
    )


class MoneyOut(BaseModel):
    """A booking's money in minor units, derived from the ledger (online and desk alike)."""

    model_config = ConfigDict(from_attributes=True)

    price_minor: int
    deposit_minor: int = Field(description="What had to be paid online to confirm it (0: pay at the venue).")
    paid_minor: int = Field(description="Taken and not given back, online and at the desk.")
    refunded_minor: int
    balance_due_minor: int = Field(description="Still to pay; 0 once the booking is cancelled or expired.")
    currency: str


class BookingOut(BaseModel):
    id: uuid.UUID
    business_id: uuid.UUID
    customer_id: uuid.UUID | None = Field(description="None for a guest booked by name (`guest_name`).")
    guest_name: str | None = None
    customer_record_id: uuid.UUID | None = Field(
        default=None, description="The customer record staff booked it by; None when booked otherwise."
    )
    service_id: uuid.UUID
    staff_id: uuid.UUID
    resource_ids: list[uuid.UUID] = Field(default_factory=list)
    status: BookingStatus
    starts_at: datetime = Field(description=UTC_INSTANT)
    ends_at: datetime = Field(description=UTC_INSTANT)
    time_zone: str = Field(description="The business's time zone (IANA), which the local fields are in.")
    starts_at_local: datetime = Field(description=LOCAL_INSTANT)
    ends_at_local: datetime = Field(description=LOCAL_INSTANT)
    hold_expires_at: datetime | None
    payment_method: str | None
    price_minor: int
    deposit_minor: int
    currency: str
    extra_fields: dict[str, Any]
    session_id: uuid.UUID | None = Field(default=None, description="The class session (class mode).")
    status_reason: str | None = Field(
        default=None, description="Why the status is what it is, when not obvious."
    )
    version: int
    created_at: datetime
    money: MoneyOut = Field(description="Price, deposit, paid, refunded and still due.")
    cancellation: CancellationOut | None = None


class BookingCustomerOut(BaseModel):
    id: uuid.UUID | None = Field(description="The customer's account; None for a guest booked by name.")
    name: str = Field(description="The account's full name, or the guest's name (`guest_name`).")
    phone: str | None = Field(
        description="The account's mobile number (E.164), once proven; for a guest booked by their customer "
        "record, the record's; else None."
    )


class BookingListItemOut(BookingOut):
    """A booking in a list or calendar: the booking, and who it is for."""

    customer: BookingCustomerOut = Field(
        description="Who the booking is for, read with the page (a guest's has `id` None)."
    )


class CalendarFeedOut(BaseModel):
    url: str = Field(description="The private feed URL. Shown once: keep it secret, rotate it if it leaks.")
