"""`booklnk messages-sim`: every messaging provider the demo and a developer talk to, in one
process. SMTP on its own port (the e-mail, with a web inbox at `/`); on the web port too,
Cequens' SMS API under `/cequens` and Meta's WhatsApp Cloud API under `/whatsapp`, each with
its `/__sim/messages` to read what was sent. The WhatsApp simulator posts its signed status
webhooks to the app, as Meta does; the SMS one posts delivery reports to each message's
`dlrUrl`."""

from __future__ import annotations

import uvicorn
from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.routing import Mount

from booklnk.notifications.simulators import mail, sms, whatsapp


def serve(host: str, smtp_port: int, http_port: int, *, whatsapp_sim: whatsapp.WhatsAppSim) -> None:
    """Block: SMTP on `smtp_port` (its own thread), the rest on `http_port`."""
    inbox = mail.Inbox()
    controller = Controller(inbox, hostname=host, port=smtp_port)
    controller.start()
    web = Starlette(
        routes=[
            Mount("/cequens", sms.app(sms.SmsStore())),
            Mount("/whatsapp", whatsapp.app(whatsapp_sim)),
            Mount("/", mail.web_app(inbox)),
        ]
    )
    try:
        uvicorn.run(web, host=host, port=http_port, log_config=None)
    finally:
        controller.stop()
