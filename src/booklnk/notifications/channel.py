"""What every channel is to the delivery use case: a rendered message, its stable key and
an address in; the provider's id for it out; two kinds of failure."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from booklnk.notifications.rendering import Rendered


class Unavailable(Exception):
    """The provider could not take the message now (no connection, a timeout, a temporary
    refusal): the job is retried later."""


class Refused(Exception):
    """The provider refused the message for good (a bad address, a rejected content):
    retrying cannot help."""


# (message key, address, rendered message) -> the provider's id for it.
Sender = Callable[[str, str, Rendered], Awaitable[str]]
