"""One realistic example per request body, for the OpenAPI document: the story of
`api.examples` (its ids), seen from the calls a client makes. A test validates each."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from booklnk.api.example_ids import SERVICE, STAFF
from booklnk.booking.classes.schemas import SeatCreate, SeriesChange, SeriesCreate, SessionChange
from booklnk.booking.schemas import BookingCreate, BookingMove
from booklnk.business_types.definition import BusinessTypeDefinition
from booklnk.business_types.loader import builtin_definitions
from booklnk.catalog.schemas import (
    DateOverrideBody,
    ResourceCreate,
    ResourceUpdate,
    ServiceCreate,
    ServiceUpdate,
    StaffCreate,
    StaffUpdate,
    TimeOffBody,
    WeeklyScheduleBody,
)
from booklnk.customers.schemas import CustomerCreate, CustomerUpdate
from booklnk.integrations.schemas import EndpointCreate, EndpointUpdate
from booklnk.payments.schemas import CheckoutIn, DeskMoneyIn, RefundIn
from booklnk.tenancy.schemas import (
    AccountDeletionIn,
    BusinessCreate,
    BusinessUpdate,
    InvitationAccept,
    InvitationCreate,
    LoginIn,
    PasswordChangeIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    PhoneCodeIn,
    PhoneVerifyIn,
    ProfileIn,
    RefreshIn,
    RegisterIn,
    SignInCodeIn,
    SignInVerifyIn,
    VerifyRegistrationIn,
)

# A business type is the built-in barbershop's definition (a new one, for a create).
_BARBERSHOP = next(d for d in builtin_definitions() if d.key == "barbershop").model_dump(mode="json")
REQUESTS: dict[type[BaseModel], dict[str, Any]] = {
    BusinessTypeDefinition: {
        **_BARBERSHOP,
        "key": "beauty_salon",
        "name": "Beauty salon",
        "description": "Hair, nails and make-up with a named stylist.",
    },
    RegisterIn: {"email": "mona@example.com", "language": "ar"},
    VerifyRegistrationIn: {
        "email": "mona@example.com",
        "code": "482913",
        "password": "a long passphrase",
        "full_name": "Mona Adel",
    },
    PasswordResetIn: {"email": "mona@example.com", "language": "ar"},
    PasswordResetConfirmIn: {
        "email": "mona@example.com",
        "code": "730154",
        "password": "a new long passphrase",
    },
    AccountDeletionIn: {"password": "a long passphrase"},
    PasswordChangeIn: {"current_password": "a long passphrase", "new_password": "a new long passphrase"},
    ProfileIn: {"full_name": "Mona Adel Hassan", "language": "en", "channels": ["whatsapp", "email"]},
    PhoneCodeIn: {"phone": "01001234567", "channel": "whatsapp"},
    PhoneVerifyIn: {"phone": "+201001234567", "code": "730154"},
    SignInCodeIn: {"phone": "+201001234567", "channel": "sms"},
    SignInVerifyIn: {"phone": "+201001234567", "code": "730154"},
    LoginIn: {"email": "mona@example.com", "password": "a long passphrase"},
    RefreshIn: {"refresh_token": "rt_9Qx3v1Kc0l2T7bq8YhJ4nW5sE6dF"},
    BusinessCreate: {
        "name": "Cairo Cuts",
        "slug": "cairo-cuts",
        "business_type": "barbershop",
        "time_zone": "Africa/Cairo",
        "currency": "EGP",
        "rule_overrides": {"min_notice_minutes": 60},
    },
    BusinessUpdate: {
        "name": "Cairo Cuts Zamalek",
        "return_origins": ["https://book.cairocuts.example"],
        "require_phone": True,
    },
    InvitationCreate: {"email": "karim@example.com", "role": "staff"},
    InvitationAccept: {"token": "inv_c2V0LWJ5LXRoZS1vd25lcg"},
    ServiceCreate: {
        "name": "Haircut",
        "description": "Wash, cut and style.",
        "duration_options_minutes": [30],
        "price_minor": 15000,
        "buffer_after_minutes": 5,
        "required_resource_kinds": ["chair"],
        "staff_ids": [STAFF],
    },
    ServiceUpdate: {"price_minor": 17500},
    CustomerCreate: {"name": "أحمد مصطفى", "phone": "01001234567", "tags": ["vip"], "notes": "Beard only"},
    CustomerUpdate: {"notes": "Beard only; prefers Karim", "tags": ["vip", "mornings"]},
    StaffCreate: {"display_name": "Karim", "user_id": None, "active": True},
    StaffUpdate: {"display_name": "Karim Hassan"},
    ResourceCreate: {"name": "Chair 1", "kind": "chair", "active": True},
    ResourceUpdate: {"active": False},
    WeeklyScheduleBody: {
        "hours": [{"weekday": day, "start": "10:00", "end": "22:00"} for day in (0, 1, 2, 3, 5, 6)],
        "breaks": [{"weekday": day, "start": "14:00", "end": "15:00"} for day in (0, 1, 2, 3, 5, 6)],
    },
    DateOverrideBody: {"date": "2027-03-01", "closed": False, "hours": [{"start": "20:00", "end": "24:00"}]},
    TimeOffBody: {
        "starts_at": "2026-12-24T10:00:00+02:00",
        "ends_at": "2026-12-26T22:00:00+02:00",
        "reason": "Leave",
    },
    BookingCreate: {
        "service_id": SERVICE,
        "starts_at": "2026-12-08T10:00:00+02:00",
        "staff_id": STAFF,
        "payment_method": "card",
    },
    BookingMove: {"starts_at": "2026-12-08T11:00:00+02:00"},
    CheckoutIn: {
        "method": "card",
        "display": "ar",
        "return_url": "https://book.cairocuts.example/bookings/done",
        "cancel_url": "https://book.cairocuts.example/bookings/retry",
    },
    RefundIn: {"amount_minor": 15000, "reason": "The barber was ill."},
    DeskMoneyIn: {"amount_minor": 15000, "method": "cash"},
    SeriesCreate: {
        "service_id": SERVICE,
        "staff_id": STAFF,
        "rrule": "FREQ=WEEKLY;BYDAY=TU,TH",
        "starts_on": "2026-12-08",
        "start_time": "18:00",
        "capacity": 12,
    },
    SeriesChange: {"capacity": 15},
    SessionChange: {"starts_at": "2026-12-08T19:00:00+02:00"},
    SeatCreate: {"payment_method": "card"},
    EndpointCreate: {
        "url": "https://hooks.cairocuts.example/booklnk",
        "events": ["booking.created", "booking.confirmed", "booking.cancelled", "payment.received"],
        "description": "The shop's CRM",
    },
    EndpointUpdate: {"events": ["booking.confirmed", "booking.cancelled"], "enabled": True},
}
