"""The e-mail channel: a rendered message composed as MIME (pure) and handed to an SMTP
server with aiosmtplib. Which server, and how it is secured, is configuration only: a local
one (`booklnk messages-sim`, or the tests' aiosmtpd) or a provider's relay."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate
from typing import Literal

import aiosmtplib

from booklnk.notifications.calendar import entry
from booklnk.notifications.channel import Outgoing, Refused, Sender, Unavailable
from booklnk.notifications.rendering import Rendered

Security = Literal["none", "starttls", "tls"]


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    sender: str  # the From header, e.g. "Booklnk <no-reply@booklnk.example>"
    security: Security = "none"
    username: str | None = None
    password: str | None = None
    timeout_seconds: float = 30.0


def compose(
    *, message_key: str, domain: str, sender: str, to: str, rendered: Rendered, calendar: str | None = None
) -> EmailMessage:
    """The message as MIME: plain text, then HTML (RFC 2046 multipart/alternative), and a
    booking's calendar entry as an `booking.ics` attachment when there is one. Its Message-ID
    is the outbox row's, so a resend after a crash is recognisably the same message."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = to
    email["Subject"] = rendered.subject
    email["Date"] = formatdate(usegmt=True)
    email["Message-ID"] = f"<{message_key}@{domain}>"
    # Transactional: no auto-replies (out-of-office) back to a no-reply sender.
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(rendered.text)
    email.add_alternative(rendered.html, subtype="html")
    if calendar is not None:
        email.add_attachment(calendar.encode(), maintype="text", subtype="calendar", filename="booking.ics")
    # (After the content: setting it clears every Content-* header.)
    email["Content-Language"] = rendered.language
    return email


def sender(config: SmtpConfig) -> Sender:
    """The channel: compose, then hand to the server."""
    domain = config.sender.rpartition("@")[2].rstrip(">").strip() or "booklnk.local"

    async def send_one(outgoing: Outgoing) -> str:
        email = compose(
            message_key=outgoing.key,
            domain=domain,
            sender=config.sender,
            to=outgoing.address,
            rendered=outgoing.rendered,
            calendar=entry(outgoing.template, outgoing.params, stamp=datetime.now(UTC)),
        )
        return await send(config, email)

    return send_one


async def send(config: SmtpConfig, email: EmailMessage) -> str:
    """Hand `email` to the server; returns the server's answer to the data (its queue id,
    for most servers). A 5xx answer about the message or its recipient is Refused; no
    connection, a timeout or any other answer is Unavailable (worth another try; a wrong
    password too: an operator fixes it and the messages go)."""
    try:
        _, answer = await aiosmtplib.send(
            email,
            hostname=config.host,
            port=config.port,
            username=config.username,
            password=config.password,
            use_tls=config.security == "tls",
            start_tls=config.security == "starttls",
            tls_context=ssl.create_default_context() if config.security != "none" else None,
            timeout=config.timeout_seconds,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [refusal.code for refusal in exc.recipients]
        if all(code >= 500 for code in codes):
            raise Refused(f"recipient refused ({codes[0]})") from exc
        raise Unavailable(f"recipient deferred ({codes[0]})") from exc
    except aiosmtplib.SMTPDataError as exc:
        if exc.code >= 500:
            raise Refused(f"message refused ({exc.code})") from exc
        raise Unavailable(f"message deferred ({exc.code})") from exc
    except (aiosmtplib.SMTPException, OSError) as exc:
        # (Never the exception's text: a server may echo what it was sent, credentials too.)
        raise Unavailable(f"smtp unavailable ({type(exc).__name__})") from exc
    return answer[:200]
