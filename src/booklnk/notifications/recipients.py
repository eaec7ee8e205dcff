"""Which channel a person's message goes by, and where to fall back: pure.

A customer's channels come in the order they chose (a channel left out is opted out of),
or by default WhatsApp, then SMS, then e-mail: in Egypt customers live on WhatsApp, an SMS
reaches any phone, and most accounts have an e-mail address (one made by a number alone
has none: its messages go by the phone). Only the channels the person has an address for
count: a phone channel needs a proven number, the e-mail channel an address."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from booklnk.notifications.models import Channel

DEFAULT_ORDER = (Channel.WHATSAPP, Channel.SMS, Channel.EMAIL)


@dataclass(frozen=True, slots=True)
class Route:
    channel: Channel
    address: str

    def as_json(self) -> dict[str, str]:
        return {"channel": self.channel.value, "address": self.address}

    @classmethod
    def from_json(cls, value: dict[str, str]) -> Route:
        return cls(Channel(value["channel"]), value["address"])


def routes(*, email: str | None, phone: str | None, preference: Sequence[str] | None) -> list[Route]:
    """The ways to reach someone, first choice first; empty when they opted out of all."""
    addresses = {Channel.EMAIL: email, Channel.SMS: phone, Channel.WHATSAPP: phone}
    order = DEFAULT_ORDER if preference is None else [Channel(name) for name in preference]
    found: list[Route] = []
    for channel in order:
        address = addresses[channel]
        if address and all(route.channel is not channel for route in found):
            found.append(Route(channel, address))
    return found
