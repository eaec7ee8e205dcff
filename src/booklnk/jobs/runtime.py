"""What every task needs, handed to the worker once (procrastinate's additional context)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from procrastinate import JobContext

from booklnk.bootstrap import cequens_config, derived_key, kashier_config, smtp_config, whatsapp_config
from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.integrations.targets import TargetPolicy, policy_for
from booklnk.kernel.clock import Clock
from booklnk.notifications import email, sms, whatsapp
from booklnk.notifications.channel import Sender
from booklnk.notifications.models import Channel
from booklnk.payments import pay_links
from booklnk.payments.kashier.client import KashierClient
from booklnk.payments.pay_links import PayClaim


@dataclass(slots=True)
class Runtime:
    db: Database
    clock: Clock
    settings: Settings
    _kashier: KashierClient | None = field(default=None, repr=False)
    _messaging: httpx.AsyncClient | None = field(default=None, repr=False)
    _senders: dict[Channel, Sender] | None = field(default=None, repr=False)
    _webhooks: httpx.AsyncClient | None = field(default=None, repr=False)

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

    def webhooks(self) -> httpx.AsyncClient:
        """The client outgoing webhooks are posted with: never a redirect followed, no
        proxy from the environment (an integrator's URL goes where it says, checked)."""
        if self._webhooks is None:
            self._webhooks = httpx.AsyncClient(
                follow_redirects=False, trust_env=False, headers={"user-agent": "Booklnk-Webhooks/1"}
            )
        return self._webhooks

    def webhook_policy(self) -> TargetPolicy:
        return policy_for(self.settings.environment, self.settings.webhook_allow_private_targets)

    def expand(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """A message's parameters as it is written: a pay claim becomes its sealed link, and
        `site` is this deployment's address (for links into the web app)."""
        found = dict(params)
        found.setdefault("site", self.settings.public_base_url.rstrip("/"))
        if isinstance(claim := found.get("pay"), dict):
            key = derived_key(self.settings, "pay links").encode()
            found["pay_url"] = pay_links.link(self.settings.public_base_url, key, PayClaim.from_params(claim))
        return found

    async def aclose(self) -> None:
        if self._kashier is not None:
            await self._kashier.aclose()
        if self._messaging is not None:
            await self._messaging.aclose()
        if self._webhooks is not None:
            await self._webhooks.aclose()


def runtime_of(context: JobContext) -> Runtime:
    runtime = context.additional_context["runtime"]
    assert isinstance(runtime, Runtime)
    return runtime
