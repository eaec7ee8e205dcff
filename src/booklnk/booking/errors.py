"""Booking error kinds with stable codes."""

from __future__ import annotations

from booklnk.kernel.errors import Conflict, Forbidden, NotFound
from booklnk.kernel.errors import VersionMismatch as VersionMismatch  # (customer records use it too)


class BookingNotFound(NotFound):
    code = "booking_not_found"


class CancellationWindowPassed(Conflict):
    code = "cancellation_window_passed"


class ConcurrentUpdate(Conflict):
    code = "concurrent_update"


class PaymentRequired(Conflict):
    code = "payment_required"


class PhoneRequired(Forbidden):
    """The business asks customers who book themselves for a proven mobile number."""

    code = "phone_required"


class UpcomingBookings(Conflict):
    """An account with bookings still to come is not deleted: they are cancelled first, by
    the rules that say what is refunded."""

    code = "upcoming_bookings"
