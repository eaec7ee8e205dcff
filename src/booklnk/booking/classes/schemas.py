"""API shapes for class series, sessions, seats and waitlists."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

from booklnk.booking.classes.models import SessionStatus, WaitlistStatus
from booklnk.booking.schemas import LOCAL_INSTANT, UTC_INSTANT
from booklnk.catalog.schemas import CalendarDate, Instant

Capacity = Annotated[int, Strict(), Field(ge=1, le=1000)]
ResourceIds = Annotated[list[uuid.UUID], Field(max_length=10)]
PaymentMethodIn = Literal["card", "wallet", "fawry"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SeriesCreate(_In):
    service_id: uuid.UUID
    staff_id: uuid.UUID = Field(description="The instructor.")
    rrule: Annotated[str, Field(min_length=6, max_length=500)] = Field(
        description="RFC 5545 RRULE over local dates, e.g. `FREQ=WEEKLY;BYDAY=MO,WE;COUNT=20`. "
        "FREQ DAILY to YEARLY; INTERVAL 1-366; COUNT 1-10000 or UNTIL (not both; read as a local date, "
        "inclusive); BYMONTH, BYMONTHDAY, BYDAY (numbered, like `1MO` or `-1FR`, with MONTHLY, or YEARLY "
        "with BYMONTH), WKST. BYSETPOS, BYYEARDAY, BYWEEKNO and times in the rule answer 422 naming the "
        "rule; so does a rule with no session in two years.",
        examples=["FREQ=WEEKLY;BYDAY=MO,WE"],
    )
    starts_on: CalendarDate = Field(description="The first local date the rule counts from (2000-2199).")
    start_time: time = Field(description="Local wall-clock start, e.g. `18:00`.")
    duration_minutes: Annotated[int, Strict(), Field(ge=1, le=1440)] | None = Field(
        default=None, description="One of the service's options; default its first."
    )
    capacity: Capacity | None = Field(default=None, description="Seats; default the service's capacity.")
    resource_ids: ResourceIds | None = Field(
        default=None,
        description="The room (or other resource) of each kind the service requires, one per kind. A kind "
        "the business has only one of may be left out; two classes can never share a room at one time.",
    )


class SeriesChange(_In):
    staff_id: uuid.UUID | None = None
    resource_ids: ResourceIds | None = Field(default=None, description="Other rooms, one per required kind.")
    capacity: Capacity | None = None
    start_time: time | None = Field(
        default=None,
        description="New local start, e.g. `19:00`: the future sessions not edited alone move to it on "
        "their own dates, with their bookings.",
    )


class SessionChange(_In):
    starts_at: Instant | None = Field(default=None, description="Move this occurrence (with its bookings).")
    staff_id: uuid.UUID | None = None
    resource_ids: ResourceIds | None = Field(default=None, description="Other rooms, one per required kind.")
    capacity: Capacity | None = None


class SeatCreate(_In):
    payment_method: PaymentMethodIn | None = Field(
        default=None, description="Required when the business asks for payment up front."
    )
    extra_fields: dict[str, Any] = Field(default_factory=dict, description="Per the business type's schema.")
    customer_id: uuid.UUID | None = Field(
        default=None,
        description="Staff only: book for one of the business's customers (an account that has booked "
        "here before); anyone else answers 422 `unknown_customer`.",
    )


class SessionOut(BaseModel):
    id: uuid.UUID
    series_id: uuid.UUID | None
    service_id: uuid.UUID
    staff_id: uuid.UUID
    resource_ids: list[uuid.UUID] = Field(description="The rooms (resources) it takes.")
    starts_at: datetime = Field(description=UTC_INSTANT)
    ends_at: datetime = Field(description=UTC_INSTANT)
    time_zone: str = Field(description="The business's time zone (IANA), which the local fields are in.")
    starts_at_local: datetime = Field(description=LOCAL_INSTANT)
    ends_at_local: datetime = Field(description=LOCAL_INSTANT)
    capacity: int
    seats_taken: int
    seats_left: int
    waiting: int = Field(description="People on the waitlist.")
    status: SessionStatus
    detached: bool = Field(description="Edited alone: series edits no longer change it.")
    version: int


class SeriesOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    service_id: uuid.UUID
    staff_id: uuid.UUID
    rrule: str
    starts_on: date
    start_time: time
    duration_minutes: int
    capacity: int
    resource_ids: list[uuid.UUID]
    status: SessionStatus
    materialized_until: date
    version: int


class SeriesCreated(BaseModel):
    series: SeriesOut
    sessions: list[SessionOut]


class ClassAvailabilityOut(BaseModel):
    mode: Literal["class"]  # required: the discriminator of the availability answer
    time_zone: str
    service_id: uuid.UUID
    sessions: list[SessionOut] = Field(
        description="Scheduled sessions in the window; full ones offer a waitlist."
    )


class WaitlistEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    session_id: uuid.UUID
    customer_id: uuid.UUID
    status: WaitlistStatus
    payment_method: str | None
    booking_id: uuid.UUID | None
    created_at: datetime


class WaitlistJoined(WaitlistEntryOut):
    place: int = Field(description="Place in line when joining (1 = next).")
