"""One realistic example per answer, for the OpenAPI document (the request bodies' are in
`request_examples`, the same story).

They tell one story (Cairo Cuts, a barbershop in Cairo: a haircut booked for Tuesday 8
December 2026 at 10:00 local time) so that a front-end developer can follow the ids from
call to call. `openapi_document` attaches each to its schema by the model's name (a page of
items takes its item's example); a test validates every one against its model, so an
example cannot drift from what the API accepts and answers.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from booklnk.api.example_ids import (
    ATTEMPT,
    BOOKING,
    BUSINESS,
    CHAIR,
    CREATED,
    CUSTOMER,
    ENDS,
    ORDER,
    OWNER,
    RUN,
    SERIES,
    SERVICE,
    SESSION,
    STAFF,
    STARTS,
)
from booklnk.api.examples_records import RECORD_ANSWERS
from booklnk.api.observability import Health
from booklnk.api.public_schemas import (
    OpeningHoursOut,
    PublicAvailabilityOut,
    PublicBusinessOut,
    PublicClassAvailabilityOut,
    PublicServiceOut,
    PublicSessionOut,
    PublicStaffOut,
)
from booklnk.booking.classes.schemas import (
    ClassAvailabilityOut,
    SeriesCreated,
    SeriesOut,
    SessionOut,
    WaitlistEntryOut,
    WaitlistJoined,
)
from booklnk.booking.schemas import (
    AvailabilityOut,
    BookingListItemOut,
    BookingOut,
    CalendarFeedOut,
    CompactAvailabilityOut,
)
from booklnk.catalog.schemas import (
    DateOverrideOut,
    ResourceOut,
    ServiceOut,
    StaffOut,
    TimeOffOut,
)
from booklnk.notifications.schemas import MessageOut, ReportsAck
from booklnk.payments.schemas import (
    BookingPaymentsOut,
    CheckoutOut,
    DeskRecorded,
    MismatchOut,
    PaymentReturnOut,
    ReconciliationRunOut,
    RefundOut,
    WebhookAck,
)
from booklnk.tenancy.schemas import (
    BusinessOut,
    CodeSentOut,
    CodeSentToOut,
    InvitationCreated,
    InvitationOut,
    MemberOut,
    MembershipOut,
    MeOut,
    TokensOut,
    UserOut,
)

_MONEY = {
    "price_minor": 15000,
    "deposit_minor": 0,
    "paid_minor": 0,
    "refunded_minor": 0,
    "balance_due_minor": 15000,
    "currency": "EGP",
}
_BOOKING = {
    "id": BOOKING,
    "business_id": BUSINESS,
    "customer_id": CUSTOMER,
    "guest_name": None,
    "customer_record_id": None,
    "service_id": SERVICE,
    "staff_id": STAFF,
    "resource_ids": [CHAIR],
    "status": "confirmed",
    "starts_at": STARTS,
    "ends_at": ENDS,
    "time_zone": "Africa/Cairo",
    "starts_at_local": "2026-12-08T10:00:00+02:00",
    "ends_at_local": "2026-12-08T10:30:00+02:00",
    "hold_expires_at": None,
    "payment_method": "card",
    "price_minor": 15000,
    "deposit_minor": 0,
    "currency": "EGP",
    "extra_fields": {},
    "session_id": None,
    "status_reason": None,
    "version": 1,
    "created_at": CREATED,
    "money": _MONEY,
    "cancellation": None,
}
_SERVICE = {
    "id": SERVICE,
    "name": "Haircut",
    "description": "Wash, cut and style.",
    "duration_options_minutes": [30],
    "price_minor": 15000,
    "currency": "EGP",
    "buffer_before_minutes": 0,
    "buffer_after_minutes": 5,
    "capacity": 1,
    "required_resource_kinds": ["chair"],
    "staff_ids": [STAFF],
    "active": True,
    "payment_overrides": {},
    "created_at": CREATED,
}
_SESSION = {
    "id": SESSION,
    "series_id": SERIES,
    "service_id": SERVICE,
    "staff_id": STAFF,
    "resource_ids": [],
    "starts_at": "2026-12-08T16:00:00Z",
    "ends_at": "2026-12-08T17:00:00Z",
    "time_zone": "Africa/Cairo",
    "starts_at_local": "2026-12-08T18:00:00+02:00",
    "ends_at_local": "2026-12-08T19:00:00+02:00",
    "capacity": 12,
    "seats_taken": 9,
    "seats_left": 3,
    "waiting": 0,
    "status": "scheduled",
    "detached": False,
    "version": 1,
}
_SERIES = {
    "id": SERIES,
    "service_id": SERVICE,
    "staff_id": STAFF,
    "rrule": "FREQ=WEEKLY;BYDAY=TU,TH",
    "starts_on": "2026-12-08",
    "start_time": "18:00:00",
    "duration_minutes": 60,
    "capacity": 12,
    "resource_ids": [],
    "status": "scheduled",
    "materialized_until": "2027-01-05",
    "version": 1,
}
_WAITING = {
    "id": "7e8f9a0b-1c2d-4e3f-8a4b-5c6d7e8f9a0c",
    "session_id": SESSION,
    "customer_id": CUSTOMER,
    "status": "waiting",
    "payment_method": "card",
    "booking_id": None,
    "created_at": CREATED,
}
_INVITATION = {
    "id": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
    "email": "karim@example.com",
    "role": "staff",
    "expires_at": "2026-12-11T17:21:05Z",
    "created_at": CREATED,
}
_REFUND = {
    "id": "6c7d8e9f-0a1b-4c2d-9e3f-4a5b6c7d8e9f",
    "booking_id": BOOKING,
    "amount_minor": 15000,
    "currency": "EGP",
    "reason": "The barber was ill.",
    "status": "requested",
}
_USER = {
    "id": CUSTOMER,
    "email": "mona@example.com",
    "phone": "+201001234567",
    "full_name": "Mona Adel",
    "language": "ar",
    "channels": ["whatsapp", "sms", "email"],
    "is_platform_admin": False,
    "created_at": CREATED,
}

_PUBLIC_SESSION = {
    key: _SESSION[key]
    for key in (
        "id",
        "service_id",
        "staff_id",
        "starts_at",
        "ends_at",
        "time_zone",
        "starts_at_local",
        "ends_at_local",
    )
} | {"capacity": 12, "seats_left": 3}
_SLOT = {
    "starts_at": STARTS,
    "ends_at": ENDS,
    "starts_at_local": "2026-12-08T10:00:00+02:00",
    "ends_at_local": "2026-12-08T10:30:00+02:00",
    "staff_ids": [STAFF],
}

ANSWERS: dict[type[BaseModel], dict[str, Any]] = {
    PublicBusinessOut: {
        "id": BUSINESS,
        "slug": "cairo-cuts",
        "name": "Cairo Cuts",
        "business_type": "barbershop",
        "mode": "appointment",
        "time_zone": "Africa/Cairo",
        "currency": "EGP",
        "policies": {
            "payment": {
                "policy": "pay_at_venue",
                "deposit_percent": None,
                "methods": ["card", "wallet"],
                "hold_minutes": 10,
            },
            "cancellation": {"free_until_minutes_before": 60, "late_refund_percent": None},
            "booking": {"slot_grid_minutes": 15, "min_notice_minutes": 60, "horizon_days": 30},
            "booking_fields": {"type": "object", "properties": {}, "additionalProperties": False},
        },
    },
    PublicServiceOut: {
        "id": SERVICE,
        "name": "Haircut",
        "description": "Wash, cut and style.",
        "duration_options_minutes": [30],
        "price_minor": 15000,
        "currency": "EGP",
        "capacity": 1,
        "staff_ids": [STAFF],
        "payment": {"policy": "deposit", "deposit_percent": 30, "methods": ["card"], "hold_minutes": 15},
        "upfront_minor": 4500,
    },
    PublicStaffOut: {"id": STAFF, "display_name": "Karim"},
    OpeningHoursOut: {
        "time_zone": "Africa/Cairo",
        "weekly": {
            "hours": [{"weekday": 0, "start": "10:00", "end": "22:00"}],
            "breaks": [{"weekday": 0, "start": "14:00", "end": "15:00"}],
        },
        "from": "2026-12-04",
        "to": "2027-01-03",
        "dates": [{"date": "2026-12-25", "closed": True, "hours": []}],
    },
    PublicAvailabilityOut: {
        "mode": "appointment",
        "time_zone": "Africa/Cairo",
        "service_id": SERVICE,
        "duration_minutes": 30,
        "slots": [_SLOT],
    },
    PublicSessionOut: _PUBLIC_SESSION,
    PublicClassAvailabilityOut: {
        "mode": "class",
        "time_zone": "Africa/Cairo",
        "service_id": SERVICE,
        "sessions": [_PUBLIC_SESSION],
    },
    Health: {"status": "ok"},
    UserOut: _USER,
    MessageOut: {
        "id": "5b0e7c1d-93a2-4f6e-8d41-2c7a9e0b3f58",
        "channel": "email",
        "address": "mona@example.com",
        "template": "booking_reminder",
        "language": "ar",
        "status": "sent",
        "created_at": "2026-12-06T07:00:00Z",
        "sent_at": "2026-12-06T07:00:02Z",
        "delivery_status": "read",
        "delivery_status_at": "2026-12-06T07:04:40Z",
        "attempts": [
            {"number": 1, "at": "2026-12-06T07:00:00Z", "outcome": "failed", "detail": "smtp unavailable"},
            {"number": 2, "at": "2026-12-06T07:00:02Z", "outcome": "sent", "detail": "queued as 4FQ2x1"},
        ],
    },
    CodeSentOut: {
        "email": None,
        "phone": "+201001234567",
        "channel": "whatsapp",
        "code_expires_in": 900,
        "detail": "If this address can take it, a code is on its way.",
    },
    CodeSentToOut: {
        "to": "+201001234567",
        "channel": "whatsapp",
        "code_expires_in": 900,
        "detail": "If this address can take it, a code is on its way.",
    },
    ReportsAck: {"applied": 1},
    TokensOut: {
        "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjM2ExZTliMiJ9.c2lnbmF0dXJl",
        "token_type": "bearer",
        "expires_in": 900,
        "refresh_token": "rt_9Qx3v1Kc0l2T7bq8YhJ4nW5sE6dF",
        "refresh_expires_at": "2027-01-03T17:21:05Z",
    },
    MeOut: {
        "user": _USER,
        "memberships": [
            {
                "business_id": BUSINESS,
                "business_name": "Cairo Cuts",
                "business_slug": "cairo-cuts",
                "role": "staff",
            }
        ],
    },
    BusinessOut: {
        "id": BUSINESS,
        "name": "Cairo Cuts",
        "slug": "cairo-cuts",
        "business_type": "barbershop",
        "time_zone": "Africa/Cairo",
        "currency": "EGP",
        "rule_overrides": {"min_notice_minutes": 60},
        "return_origins": ["https://book.cairocuts.example"],
        "require_phone": False,
        "created_at": CREATED,
    },
    MemberOut: {"user_id": OWNER, "full_name": "Hany Saleh", "email": "hany@example.com", "role": "owner"},
    MembershipOut: {
        "business_id": BUSINESS,
        "business_name": "Cairo Cuts",
        "business_slug": "cairo-cuts",
        "role": "staff",
    },
    InvitationOut: _INVITATION,
    InvitationCreated: {**_INVITATION, "token": "inv_c2V0LWJ5LXRoZS1vd25lcg"},
    ServiceOut: _SERVICE,
    StaffOut: {"id": STAFF, "display_name": "Karim", "user_id": None, "active": True, "created_at": CREATED},
    ResourceOut: {"id": CHAIR, "name": "Chair 1", "kind": "chair", "active": True, "created_at": CREATED},
    DateOverrideOut: {
        "id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        "date": "2027-03-01",
        "closed": False,
        "hours": [{"start": "20:00", "end": "24:00"}],
    },
    TimeOffOut: {
        "id": "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e",
        "starts_at": "2026-12-24T08:00:00Z",
        "ends_at": "2026-12-26T20:00:00Z",
        "reason": "Leave",
        "created_at": CREATED,
    },
    AvailabilityOut: {
        "mode": "appointment",
        "time_zone": "Africa/Cairo",
        "service_id": SERVICE,
        "duration_minutes": 30,
        "slots": [{**_SLOT, "resource_ids": {"chair": [CHAIR]}}],
    },
    CompactAvailabilityOut: {
        "time_zone": "Africa/Cairo",
        "service_id": SERVICE,
        "duration_minutes": 30,
        "staff_ids": [STAFF],
        "resource_ids": {"chair": [CHAIR]},
        "staff_sets": [{"free": [0]}],
        "resource_sets": {"chair": [{"free": [0]}]},
        "starts": [
            {"starts_at_local": "2026-12-08T10:00:00+02:00", "staff_set": 0, "resource_sets": {"chair": 0}},
            {"starts_at_local": "2026-12-08T10:15:00+02:00", "staff_set": 0, "resource_sets": {"chair": 0}},
        ],
    },
    ClassAvailabilityOut: {
        "mode": "class",
        "time_zone": "Africa/Cairo",
        "service_id": SERVICE,
        "sessions": [_SESSION],
    },
    BookingOut: _BOOKING,
    BookingListItemOut: {
        **_BOOKING,
        "customer": {"id": CUSTOMER, "name": _USER["full_name"], "phone": _USER["phone"]},
    },
    CalendarFeedOut: {"url": "https://api.booklnk.example/v1/calendar-feeds/cf_Zm9yLWthcmltLW9ubHk.ics"},
    SeriesOut: _SERIES,
    SeriesCreated: {"series": _SERIES, "sessions": [_SESSION]},
    SessionOut: _SESSION,
    WaitlistEntryOut: _WAITING,
    WaitlistJoined: {**_WAITING, "place": 1},
    CheckoutOut: {
        "payment_id": ATTEMPT,
        "order_id": ORDER,
        "booking_id": BOOKING,
        "method": "card",
        "amount_minor": 15000,
        "currency": "EGP",
        "status": "started",
        "purpose": "hold",
        "url": "https://payments.kashier.io/?merchantId=MID-123-45&orderId=bk-4d5e6f708192-1&amount=150.00",
        "kashier": {
            "merchant_id": "MID-123-45",
            "order_id": ORDER,
            "amount": "150.00",
            "currency": "EGP",
            "hash": "4f1e0c9b7a8d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f",
            "mode": "live",
            "display": "ar",
            "allowed_methods": "card",
            "merchant_redirect": "https://api.booklnk.example/v1/payments/kashier/return",
            "server_webhook": "https://api.booklnk.example/v1/payments/kashier/webhook",
        },
    },
    BookingPaymentsOut: {
        "booking_id": BOOKING,
        "currency": "EGP",
        "captured_minor": 15000,
        "refunded_minor": 0,
        "paid_minor": 15000,
        "desk_paid_minor": 0,
        "attempts": [],
        "refunds": [],
        "desk": [],
    },
    RefundOut: _REFUND,
    DeskRecorded: {
        "entry": {
            "id": "9d0e1f2a-3b4c-4d5e-8f6a-7b8c9d0e1f2a",
            "kind": "capture",
            "amount_minor": 15000,
            "currency": "EGP",
            "desk_method": "cash",
            "recorded_by": OWNER,
            "created_at": "2026-12-08T08:35:00Z",
        },
        "booking": {**_BOOKING, "money": {**_MONEY, "paid_minor": 15000, "balance_due_minor": 0}},
    },
    WebhookAck: {"received": True, "duplicate": False, "ignored": False},
    PaymentReturnOut: {
        "order_id": ORDER,
        "payment_status": "SUCCESS",
        "attempt_status": "paid",
        "booking_id": BOOKING,
        "booking_status": "confirmed",
    },
    ReconciliationRunOut: {
        "id": RUN,
        "day": "2026-12-08",
        "orders_checked": 42,
        "mismatches": 1,
        "started_at": "2026-12-09T01:30:00Z",
        "finished_at": "2026-12-09T01:30:04Z",
    },
    MismatchOut: {
        "id": "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
        "order_id": ORDER,
        "kind": "captured_not_recorded",
        "ours": "pending, 150.00 EGP",
        "gateway": "SUCCESS, 150.00 EGP",
        "healed": True,
        "found_at": "2026-12-09T01:30:04Z",
        "resolved_at": None,
    },
    **RECORD_ANSWERS,
}
