"""Notification error kinds with stable codes."""

from __future__ import annotations

from booklnk.kernel.errors import BooklnkError


class ReportRejected(BooklnkError):
    """A delivery report or status webhook that is unsigned or wrongly signed: nothing is
    recorded."""

    status = 401
    code = "webhook_rejected"


class VerifyTokenRejected(BooklnkError):
    """WhatsApp's subscription handshake without our verify token."""

    status = 403
    code = "verify_token_rejected"
