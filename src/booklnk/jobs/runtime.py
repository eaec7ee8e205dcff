"""What every task needs, handed to the worker once (procrastinate's additional context)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from procrastinate import JobContext

from booklnk.bootstrap import cequens_config, kashier_config, smtp_config, whatsapp_config
from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.kernel.clock import Clock
from booklnk.notifications import email, sms, whatsapp
from booklnk.notifications.channel import Sender
from booklnk.notifications.models import Channel
from booklnk.payments.kashier.client import KashierClient


@dataclass(slots=True)
class Runtime:
    db: Database
    clock: Clock
    settings: Settings
    _kashier: KashierClient | None = field(default=None, repr=False)
    _messaging: httpx.AsyncClient | None = field(default=None, repr=False)
    _senders: dict[Channel, Sender] | None = field(default=None, repr=False)

    def kashier(self) -> KashierClient:
        """The process's one Kashier client, made on first use: its connections (and the TLS
        set-up, which costs more than a lookup) serve every job instead of one each."""
        if self._kashier is None:
            self._kashier = KashierClient(kashier_config(self.settings))
        return self._kashier

    def senders(self) -> dict[Channel, Sender]:
        """A sender for each channel this deployment has a provider for, made on first use;
        the SMS and WhatsApp ones share one HTTP client (and the gateway's token)."""
        if self._senders is None:
            client = self._messaging = httpx.AsyncClient()
            settings = self.settings
            made: dict[Channel, Callable[[], Sender]] = {
                Channel.EMAIL: lambda: email.sender(smtp_config(settings)),
                Channel.SMS: lambda: sms.sender(cequens_config(settings), client),
                Channel.WHATSAPP: lambda: whatsapp.sender(whatsapp_config(settings), client),
            }
            wanted = settings.message_channels
            self._senders = {channel: make() for channel, make in made.items() if channel.value in wanted}
        return self._senders

    async def aclose(self) -> None:
        if self._kashier is not None:
            await self._kashier.aclose()
        if self._messaging is not None:
            await self._messaging.aclose()


def runtime_of(context: JobContext) -> Runtime:
    runtime = context.additional_context["runtime"]
    assert isinstance(runtime, Runtime)
    return runtime
