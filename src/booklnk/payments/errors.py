"""Payment error kinds with stable codes."""

from __future__ import annotations

from booklnk.kernel.errors import BooklnkError, Conflict, NotFound


class BookingNotPayable(Conflict):
    """Not held, already paid, or its hold has lapsed."""

    code = "booking_not_payable"


class WebhookRejected(BooklnkError):
    """Unsigned, wrongly signed, or signing too few fields: nothing is recorded."""

    status = 401
    code = "webhook_rejected"


class PayLinkNotFound(NotFound):
    """A pay link we did not make (or one altered)."""

    code = "pay_link_not_found"


class PayLinkExpired(BooklnkError):
    """A pay link past the hold it was sent for."""

    status = 410
    code = "pay_link_expired"
