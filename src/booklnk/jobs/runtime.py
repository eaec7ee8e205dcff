"""What every task needs, handed to the worker once (procrastinate's additional context)."""

from __future__ import annotations

from dataclasses import dataclass, field

from procrastinate import JobContext

from booklnk.bootstrap import kashier_config, smtp_config
from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.kernel.clock import Clock
from booklnk.notifications import email
from booklnk.notifications.channel import Sender
from booklnk.payments.kashier.client import KashierClient


@dataclass(slots=True)
class Runtime:
    db: Database
    clock: Clock
    settings: Settings
    _kashier: KashierClient | None = field(default=None, repr=False)

    def kashier(self) -> KashierClient:
        """The process's one Kashier client, made on first use: its connections (and the TLS
        set-up, which costs more than a lookup) serve every job instead of one each."""
        if self._kashier is None:
            self._kashier = KashierClient(kashier_config(self.settings))
        return self._kashier

    def email(self) -> Sender:
        return email.sender(smtp_config(self.settings))

    async def aclose(self) -> None:
        if self._kashier is not None:
            await self._kashier.aclose()


def runtime_of(context: JobContext) -> Runtime:
    runtime = context.additional_context["runtime"]
    assert isinstance(runtime, Runtime)
    return runtime
