"""Payment error kinds with stable codes."""

from __future__ import annotations

from booklnk.kernel.errors import BooklnkError, Conflict


class BookingNotPayable(Conflict):
    """Not held, already paid, or its hold has lapsed."""

    code = "booking_not_payable"


class WebhookRejected(BooklnkError):
    """Unsigned, wrongly signed, or signing too few fields: nothing is recorded."""

    status = 401
    code = "webhook_rejected"
