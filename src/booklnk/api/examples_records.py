"""Answer examples of what a business keeps beside its bookings: customer records, the
audit log, webhook endpoints and their delivery log (`examples.ANSWERS` includes them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from booklnk.api.example_ids import BOOKING, BUSINESS, CREATED, CUSTOMER, ENDS, OWNER, SERVICE, STAFF, STARTS
from booklnk.audit.schemas import AuditEventOut
from booklnk.customers.schemas import CustomerOut
from booklnk.integrations.schemas import EndpointCreated, EndpointOut, WebhookMessageOut

_ENDPOINT = {
    "id": "8a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d",
    "url": "https://hooks.cairocuts.example/booklnk",
    "description": "The shop's CRM",
    "events": ["booking.created", "booking.confirmed", "booking.cancelled", "payment.received"],
    "enabled": True,
    "disabled_reason": None,
    "disabled_at": None,
    "failing_since": None,
    "created_at": "2026-12-06T09:00:00Z",
}

RECORD_ANSWERS: dict[type[BaseModel], dict[str, Any]] = {
    CustomerOut: {
        "id": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7cf1",
        "account_id": None,
        "name": "أحمد مصطفى",
        "phone": "+201001234567",
        "email": None,
        "notes": "Beard only; prefers Karim",
        "tags": ["vip"],
        "marketing_consent": False,
        "version": 3,
        "created_at": CREATED,
        "history": {
            "visits": 7,
            "upcoming": 1,
            "no_shows": 1,
            "late_cancellations": 0,
            "last_visit_at": "2026-11-28T15:00:00Z",
            "total_paid_minor": 105000,
            "currency": "EGP",
        },
    },
    AuditEventOut: {
        "at": "2026-11-28T15:02:11Z",
        "actor_id": OWNER,
        "action": "booking.cancel",
        "subject_type": "booking",
        "subject_id": BOOKING,
        "booking_id": BOOKING,
        "details": {"from": "confirmed", "to": "cancelled"},
    },
    EndpointOut: _ENDPOINT,
    EndpointCreated: {**_ENDPOINT, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
    WebhookMessageOut: {
        "id": "2b3c4d5e-6f70-4812-9a3b-4c5d6e7f8091",
        "webhook_id": "msg_2b3c4d5e6f7048129a3b4c5d6e7f8091",
        "event_type": "booking.confirmed",
        "status": "delivered",
        "attempts": 2,
        "next_attempt_at": None,
        "created_at": "2026-12-06T09:12:00Z",
        "delivered_at": "2026-12-06T09:12:05Z",
        "payload": {
            "type": "booking.confirmed",
            "timestamp": "2026-12-06T09:12:00Z",
            "data": {
                "id": BOOKING,
                "business_id": BUSINESS,
                "status": "confirmed",
                "starts_at": STARTS,
                "ends_at": ENDS,
                "time_zone": "Africa/Cairo",
                "service": {"id": SERVICE, "name": "Haircut"},
                "staff": {"id": STAFF, "name": "Karim"},
                "customer_id": CUSTOMER,
                "session_id": None,
                "price_minor": 15000,
                "deposit_minor": 15000,
                "currency": "EGP",
                "version": 2,
            },
        },
        "attempt_log": [
            {
                "number": 1,
                "at": "2026-12-06T09:12:00Z",
                "status_code": 503,
                "response_excerpt": "Service Unavailable",
                "duration_ms": 84,
                "error": None,
            },
            {
                "number": 2,
                "at": "2026-12-06T09:12:05Z",
                "status_code": 200,
                "response_excerpt": None,
                "duration_ms": 61,
                "error": None,
            },
        ],
    },
}
