"""A real SMTP server for the suite (aiosmtpd, on a free local port, in its own thread):
the worker hands messages to it over SMTP exactly as to a provider's relay, and tests read
what arrived. It can be told to refuse for a while, as a provider in trouble does."""

from __future__ import annotations

import email.policy
import socket
import threading
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller


class Mailbox:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[EmailMessage] = []
        # An SMTP answer given to every message instead of accepting it ("451 …": try
        # later; "550 …": refused for good); None accepts.
        self.answer: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd calls it so
        if self.answer is not None:
            return self.answer
        message = BytesParser(policy=email.policy.default).parsebytes(envelope.content)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self._messages.append(message)
        return "250 2.0.0 Ok: queued"

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self._messages if to is None or m["To"] == to]

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
        self.answer = None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(mailbox: Mailbox) -> Controller:
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller
