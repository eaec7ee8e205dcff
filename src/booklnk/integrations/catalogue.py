"""The events an endpoint can subscribe to (pure)."""

from __future__ import annotations

EVENT_TYPES: tuple[str, ...] = (
    "booking.created",
    "booking.confirmed",
    "booking.rescheduled",
    "booking.cancelled",
    "booking.checked_in",
    "booking.no_show",
    "booking.completed",
    "payment.received",
    "refund.sent",
    "customer.created",
)
