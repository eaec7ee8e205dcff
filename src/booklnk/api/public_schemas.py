"""What anyone may read about a business, signed in or not: its public booking page.

Every shape here is built field by field from an allow-list, never from a table class or
an internal schema, so nothing new on a row (a buffer, an override, a customer's id)
reaches a visitor by accident. No shape here holds customer data: sessions say how many
seats are left, never who took them.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from booklnk.booking.classes.sessions import SessionView
from booklnk.booking.schemas import LOCAL_INSTANT, UTC_INSTANT
from booklnk.business_types.definition import EffectiveRules
from booklnk.catalog.schedules import OverrideView
from booklnk.catalog.schemas import DayInterval, WeekdayInterval
from booklnk.catalog.service import ServiceView
from booklnk.scheduling.availability import Slot
from booklnk.tenancy.context import BusinessContext
from booklnk.tenancy.models import Business


class _Public(BaseModel):
    model_config = ConfigDict(frozen=True)


class PaymentPolicyOut(_Public):
    policy: Literal["prepay", "deposit", "pay_at_venue"] = Field(
        description="`prepay`: the whole price online to confirm; `deposit`: a share of it online; "
        "`pay_at_venue`: nothing up front (paying online stays possible)."
    )
    deposit_percent: int | None = Field(description="`deposit`: the share paid online, in percent.")
    methods: list[str] = Field(description="Online payment methods offered.", examples=[["card", "wallet"]])
    hold_minutes: int = Field(
        description="How long a booking waiting for its online payment keeps its time (`held`)."
    )


class CancellationPolicyOut(_Public):
    free_until_minutes_before: int = Field(
        description="A customer cancels free (full refund) until this many minutes before the start."
    )
    late_refund_percent: int | None = Field(
        description="After that: the share of what was paid that a late cancellation gives back "
        "(0: nothing), or null when only the business can cancel late."
    )


class BookingWindowOut(_Public):
    slot_grid_minutes: int = Field(description="Starts lie on this grid of local time.")
    min_notice_minutes: int = Field(description="The earliest start is this long after now.")
    horizon_days: int = Field(description="The latest start lies within this many local days.")


class PoliciesOut(_Public):
    payment: PaymentPolicyOut
    cancellation: CancellationPolicyOut
    booking: BookingWindowOut
    booking_fields: dict[str, Any] = Field(
        description="JSON Schema of the questions a booking answers (`extra_fields`); without "
        "properties when it asks none."
    )

    @classmethod
    def of(cls, rules: EffectiveRules) -> PoliciesOut:
        return cls(
            payment=_payment(rules),
            cancellation=CancellationPolicyOut(
                free_until_minutes_before=rules.cancellation_window_minutes,
                late_refund_percent=rules.late_cancellation_refund_percent,
            ),
            booking=BookingWindowOut(
                slot_grid_minutes=rules.slot_grid_minutes,
                min_notice_minutes=rules.min_notice_minutes,
                horizon_days=rules.horizon_days,
            ),
            booking_fields=dict(rules.booking_fields),
        )


def _payment(rules: EffectiveRules) -> PaymentPolicyOut:
    return PaymentPolicyOut(
        policy=rules.payment_policy,
        deposit_percent=rules.deposit_percent if rules.payment_policy == "deposit" else None,
        methods=list(rules.payment_methods),
        hold_minutes=rules.checkout_hold_minutes,
    )


class PublicBusinessOut(_Public):
    id: uuid.UUID = Field(description="The business id the booking routes take (`/v1/businesses/{id}/…`).")
    slug: str
    name: str
    business_type: str
    mode: Literal["appointment", "class"] = Field(
        description="`appointment`: book a time (see availability); `class`: take a seat in a session."
    )
    time_zone: str = Field(description="IANA zone; local times below are in it.")
    currency: str
    policies: PoliciesOut

    @classmethod
    def of(cls, business: Business, ctx: BusinessContext) -> PublicBusinessOut:
        return cls(
            id=business.id,
            slug=business.slug,
            name=business.name,
            business_type=business.business_type_key,
            mode=ctx.rules.mode,
            time_zone=business.time_zone,
            currency=business.currency,
            policies=PoliciesOut.of(ctx.rules),
        )


class PublicServiceOut(_Public):
    id: uuid.UUID
    name: str
    description: str
    duration_options_minutes: list[int] = Field(description="Bookable lengths; the first is the default.")
    price_minor: int = Field(description="Integer minor units (piasters for EGP).")
    currency: str
    capacity: int = Field(description="Seats per session (class mode); 1 for appointments.")
    staff_ids: list[uuid.UUID] = Field(description="The staff members who perform it.")
    payment: PaymentPolicyOut = Field(
        description="This service's payment rules (it may differ from the business's)."
    )
    upfront_minor: int = Field(description="What is paid online to confirm a booking of it (0: nothing).")

    @classmethod
    def of(cls, view: ServiceView, ctx: BusinessContext) -> PublicServiceOut:
        service = view.service
        rules = ctx.rules_for(service.payment_overrides)
        return cls(
            id=service.id,
            name=service.name,
            description=service.description,
            duration_options_minutes=list(service.duration_options_minutes),
            price_minor=service.price_minor,
            currency=service.currency,
            capacity=service.capacity,
            staff_ids=list(view.staff_ids),
            payment=_payment(rules),
            upfront_minor=rules.upfront_minor(service.price_minor),
        )


class PublicStaffOut(_Public):
    id: uuid.UUID
    display_name: str


class DateHoursOut(_Public):
    date: date
    closed: bool = Field(description="Closed all day.")
    hours: list[DayInterval] = Field(description="When not closed: the hours of that date (no breaks).")

    @classmethod
    def of(cls, view: OverrideView) -> DateHoursOut:
        return cls(
            date=view.row.override_date, closed=view.row.closed, hours=[DayInterval.of(h) for h in view.hours]
        )


class OpeningHoursOut(_Public):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    time_zone: str
    weekly: WeeklyHoursOut = Field(
        description="The usual week, local wall-clock times; both lists empty when the business has set "
        "no opening hours (then only its staff's own hours apply)."
    )
    from_: date = Field(alias="from", description="First date covered by `dates`.")
    to: date = Field(description="Last date covered by `dates`.")
    dates: list[DateHoursOut] = Field(
        description="Dates in [from, to] whose hours differ from the usual week."
    )


class WeeklyHoursOut(_Public):
    hours: list[WeekdayInterval]
    breaks: list[WeekdayInterval]


class PublicSlotOut(_Public):
    starts_at: datetime = Field(description=UTC_INSTANT)
    ends_at: datetime = Field(description=UTC_INSTANT)
    starts_at_local: datetime = Field(description=LOCAL_INSTANT)
    ends_at_local: datetime = Field(description=LOCAL_INSTANT)
    staff_ids: list[uuid.UUID] = Field(description="Who can take it (any of them, or name one when booking).")

    @classmethod
    def of(cls, slot: Slot, zone: ZoneInfo) -> PublicSlotOut:
        return cls(
            starts_at=slot.start,
            ends_at=slot.end,
            starts_at_local=slot.start.astimezone(zone),
            ends_at_local=slot.end.astimezone(zone),
            staff_ids=list(slot.staff_ids),
        )


class PublicAvailabilityOut(_Public):
    mode: Literal["appointment"]  # required: the discriminator of the availability answer
    time_zone: str
    service_id: uuid.UUID
    duration_minutes: int
    slots: list[PublicSlotOut]


class PublicSessionOut(_Public):
    id: uuid.UUID
    service_id: uuid.UUID
    staff_id: uuid.UUID = Field(description="The instructor (a staff member).")
    starts_at: datetime = Field(description=UTC_INSTANT)
    ends_at: datetime = Field(description=UTC_INSTANT)
    time_zone: str = Field(description="The business's time zone (IANA), which the local fields are in.")
    starts_at_local: datetime = Field(description=LOCAL_INSTANT)
    ends_at_local: datetime = Field(description=LOCAL_INSTANT)
    capacity: int
    seats_left: int = Field(description="0: full; a signed-in customer may join its waitlist.")

    @classmethod
    def of(cls, view: SessionView, zone: ZoneInfo) -> PublicSessionOut:
        s = view.session
        return cls(
            id=s.id,
            service_id=s.service_id,
            staff_id=s.staff_id,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            time_zone=str(zone),
            starts_at_local=s.starts_at.astimezone(zone),
            ends_at_local=s.ends_at.astimezone(zone),
            capacity=s.capacity,
            seats_left=view.seats_left,
        )


class PublicClassAvailabilityOut(_Public):
    mode: Literal["class"]  # required: the discriminator of the availability answer
    time_zone: str
    service_id: uuid.UUID
    sessions: list[PublicSessionOut] = Field(
        description="Bookable sessions in the window, full ones included."
    )


OpeningHoursOut.model_rebuild()


# A public availability answer, told apart by `mode` (a discriminator in the document).
PublicAvailability = Annotated[
    PublicAvailabilityOut | PublicClassAvailabilityOut, Field(discriminator="mode")
]
