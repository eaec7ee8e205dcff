"""What every channel is to the delivery use case: one outgoing message in, the provider's
id for it out, and two kinds of failure."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from booklnk.notifications.rendering import Rendered


class Unavailable(Exception):
    """The provider could not take the message now (no connection, a timeout, a temporary
    refusal, a rate limit): the job is retried later."""


class Refused(Exception):
    """The provider refused the message for good (a bad address, a rejected content, a
    recipient who cannot be reached on this channel): retrying cannot help, another
    channel may."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to send. `key` is the outbox row's id (stable across retries: a
    provider that deduplicates, or a mail client, sees one message). `template`, `language`
    and `params` are there for channels that send a provider-approved template rather than
    our words (WhatsApp); `rendered` holds our words. `reference` is what the provider is to
    hand back with its delivery reports (an opaque string the report intake can verify)."""

    key: str
    address: str
    template: str
    language: str
    params: Mapping[str, Any]
    rendered: Rendered
    reference: str


# The outgoing message -> the provider's id for it.
Sender = Callable[[Outgoing], Awaitable[str]]
