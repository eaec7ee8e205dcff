"""What a booking's customer is told, and when: recorded in the transaction of the change
that causes it (the outbox), delivered after commit by the worker.

- confirmed (born confirmed, or confirmed by its payment or by staff), rescheduled,
  cancelled: a message at once;
- reminders (`booking.reminders` plans them from the business's rules): a job each at its
  time, which re-reads the booking and records the reminder only if the booking is still
  confirmed at the start it was planned for. A reschedule plans new ones and leaves the
  old jobs to find the start moved; a cancellation leaves them to find it cancelled. A
  reminder's outbox key is its booking, rule and start: a job run twice records it once.

A booking without an account (a walk-in booked by name) has no address: nothing is sent;
nor to a customer who opted out of every channel.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Text, bindparam, cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.booking.models import Booking, BookingStatus
from booklnk.booking.reminders import ReminderRules, plan
from booklnk.business_types import service as business_types
from booklnk.business_types.models import BusinessType
from booklnk.catalog.models import Service
from booklnk.db.jobs import Job
from booklnk.notifications import outbox
from booklnk.notifications.recipients import routes
from booklnk.tenancy.models import Business, User

SEND_REMINDER = "booking.send_reminder"


class Event(enum.StrEnum):
    CONFIRMED = "confirmed"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"
    PROMOTED = "promoted"  # off a class's waitlist into a seat held for payment


WARN_HOLD = "booking.warn_hold"
# A hold shorter than this is not warned about: the warning would come too late to act on.
_WARNED_HOLDS = timedelta(minutes=4)


@dataclass(frozen=True, slots=True)
class _Facts:
    booking: Booking
    email: str | None  # (an account made by a number alone has none)
    phone: str | None
    channels: list[str] | None
    full_name: str
    language: str
    business_name: str
    time_zone: str
    service_name: str
    definition: str
    overrides: dict[str, Any]


_FACTS = (
    select(
        Booking,
        User.email,
        User.phone,
        User.channels,
        User.full_name,
        User.language,
        Business.name,
        Business.time_zone,
        Service.name,
        cast(BusinessType.definition, Text),
        Business.rule_overrides,
    )
    .join(User, User.id == Booking.customer_id)
    .join(Business, Business.id == Booking.business_id)
    .join(BusinessType, BusinessType.key == Business.business_type_key)
    .join(Service, (Service.business_id == Booking.business_id) & (Service.id == Booking.service_id))
    .where(Booking.business_id == bindparam("business_id"), Booking.id.in_(bindparam("ids", expanding=True)))
    # A booking already in the session may have been changed by a bulk statement since
    # (a class session moved its seats): read what the database holds.
    .execution_options(populate_existing=True)
)


async def _facts(
    session: AsyncSession, business_id: uuid.UUID, booking_ids: Collection[uuid.UUID]
) -> list[_Facts]:
    """Everything the messages of these bookings say, in one query (none for guests)."""
    rows = await session.execute(_FACTS, {"business_id": business_id, "ids": list(booking_ids)})
    return [_Facts(*row) for row in rows.all()]


async def tell(
    session: AsyncSession,
    business_id: uuid.UUID,
    booking_ids: Collection[uuid.UUID],
    event: Event,
    *,
    now: datetime,
) -> None:
    """Record `event`'s message for each of these bookings' customers, and for a booking
    now confirmed at a (new) time, plan its reminders. A time or a confirmation is news
    only for a confirmed booking (a held one is told once it is confirmed)."""
    if not booking_ids:
        return
    for facts in await _facts(session, business_id, booking_ids):
        booking = facts.booking
        if event is Event.PROMOTED:
            # (A promotion into a confirmed seat is told as a confirmation: nothing to build.)
            if booking.status is BookingStatus.HELD:
                promoted = _message(facts, "waitlist_promoted", f"promoted:{booking.version}", pay=True)
                if promoted is not None:
                    await outbox.record(session, promoted, now=now)
            continue
        planned = event is not Event.CANCELLED and booking.status is BookingStatus.CONFIRMED
        message = _message(facts, f"booking_{event.value}", f"{event.value}:{booking.version}")
        if message is None or (event is not Event.CANCELLED and not planned):
            continue
        await outbox.record(session, message, now=now, also=_reminder_jobs(facts, now=now) if planned else ())


def _reminder_jobs(facts: _Facts, *, now: datetime) -> list[Job]:
    rules = business_types.effective_rules(facts.definition, facts.overrides)
    booking = facts.booking
    reminder_rules = ReminderRules(
        (rules.first_reminder_minutes, rules.second_reminder_minutes),
        rules.quiet_hours_start,
        rules.quiet_hours_end,
    )
    return [
        Job(
            SEND_REMINDER,
            {
                "business_id": str(booking.business_id),
                "booking_id": str(booking.id),
                "minutes_before": reminder.minutes_before,
                "starts_at": booking.starts_at.isoformat(),
            },
            scheduled_at=reminder.at,
        )
        for reminder in plan(booking.starts_at, ZoneInfo(facts.time_zone), reminder_rules, now=now)
    ]


async def remind(
    session: AsyncSession,
    business_id: uuid.UUID,
    booking_id: uuid.UUID,
    *,
    minutes_before: int,
    starts_at: datetime,
    now: datetime,
) -> bool:
    """The reminder job: recorded only while the booking is confirmed at the start it was
    planned for (a reschedule or a cancellation since makes it stale); True if recorded."""
    found = await _facts(session, business_id, [booking_id])
    if not found:
        return False
    facts = found[0]
    booking = facts.booking
    if booking.status is not BookingStatus.CONFIRMED or booking.starts_at != starts_at or now >= starts_at:
        return False
    message = _message(facts, "booking_reminder", f"reminder:{minutes_before}:{starts_at.isoformat()}")
    return message is not None and await outbox.record(session, message, now=now) is not None


def warning_job(booking: Booking, *, now: datetime) -> Job | None:
    """For a hold just made: a job half-way through it that tells the customer (with a pay
    link) if it is still unpaid then. None for a guest or a hold too short to warn about."""
    if booking.status is not BookingStatus.HELD or booking.hold_expires_at is None:
        return None
    if booking.customer_id is None or booking.hold_expires_at - now < _WARNED_HOLDS:
        return None
    args = {
        "business_id": str(booking.business_id),
        "booking_id": str(booking.id),
        "expires_at": booking.hold_expires_at.isoformat(),
    }
    return Job(WARN_HOLD, args, scheduled_at=now + (booking.hold_expires_at - now) / 2)


async def warn_hold(
    session: AsyncSession,
    business_id: uuid.UUID,
    booking_id: uuid.UUID,
    *,
    expires_at: datetime,
    now: datetime,
) -> bool:
    """The warning job: recorded only while the booking is held until the expiry it was
    planned for (paid, lapsed or extended since: nothing to say); True if recorded."""
    found = await _facts(session, business_id, [booking_id])
    if not found:
        return False
    facts = found[0]
    booking = facts.booking
    if booking.status is not BookingStatus.HELD or booking.hold_expires_at != expires_at or now >= expires_at:
        return False
    message = _message(facts, "hold_lapsing", f"hold:{expires_at.isoformat()}", pay=True)
    return message is not None and await outbox.record(session, message, now=now) is not None


Money = Literal["payment_received", "refund_sent"]
# Word of money is worth sending long after the booking: a refund often lands days later.
_MONEY_NEWS = timedelta(days=14)


async def tell_money(
    session: AsyncSession,
    business_id: uuid.UUID,
    booking_id: uuid.UUID,
    template: Money,
    *,
    amount_minor: int,
    key: str,
    now: datetime,
) -> None:
    """A payment received for a booking, or a refund sent for it, told once (`key`: the
    money's own, e.g. its ledger source)."""
    found = await _facts(session, business_id, [booking_id])
    if not found:
        return
    message = _message(found[0], template, f"{template}:{key}", extra={"amount_minor": amount_minor})
    if message is not None:
        await outbox.record(session, replace(message, expires_at=now + _MONEY_NEWS), now=now)


def _message(
    facts: _Facts, template: str, key: str, *, pay: bool = False, extra: dict[str, Any] | None = None
) -> outbox.Message | None:
    """The customer's message about their booking, by the channels they chose; `key` makes
    it once per booking. None when they opted out of every channel. `pay`: with the claim
    its pay link is made from when it is sent (payments.pay_links.PayClaim's shape), worth
    sending until the hold lapses."""
    booking = facts.booking
    ways = routes(email=facts.email, phone=facts.phone, preference=facts.channels)
    if not ways:
        return None
    params = _params(facts) | (extra or {})
    expires_at = booking.starts_at  # news about a booking is worth nothing after it
    if pay and booking.hold_expires_at is not None:
        until = booking.hold_expires_at.isoformat()
        params["until"] = until
        params["pay"] = {
            "business_id": str(booking.business_id),
            "booking_id": str(booking.id),
            "until": until,
        }
        expires_at = booking.hold_expires_at
    return outbox.Message.by(
        ways,
        template=template,
        language=facts.language,
        params=params,
        user_id=booking.customer_id,
        business_id=booking.business_id,
        booking_id=booking.id,
        expires_at=expires_at,
        dedupe_key=f"booking:{booking.id}:{key}",
    )


def _params(facts: _Facts) -> dict[str, Any]:
    booking = facts.booking
    return {
        "name": facts.full_name,
        "business": facts.business_name,
        "service": facts.service_name,
        "starts_at": booking.starts_at.isoformat(),
        "ends_at": booking.ends_at.isoformat(),
        "time_zone": facts.time_zone,
        # For the calendar entry an e-mail carries (the same UID as the calendar feed's).
        "booking_id": str(booking.id),
        "version": booking.version,
        "price_minor": booking.price_minor,
        "currency": booking.currency,
    }
