"""Standard Webhooks: an endpoint's secret and the headers a delivery carries (pure, but
for the secret's randomness)."""

from __future__ import annotations

import base64
import secrets
import uuid
from datetime import datetime
from math import floor

from standardwebhooks import Webhook

SECRET_BYTES = 32


def new_secret() -> str:
    """`whsec_` and the base64 of 32 random bytes (the spec asks for 24 to 64)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def message_id(message: uuid.UUID) -> str:
    """The `webhook-id`: the message's, the same on every attempt (the receiver's
    idempotency key)."""
    return f"msg_{message.hex}"


def headers(secret: str, message: uuid.UUID, at: datetime, body: str) -> dict[str, str]:
    """The headers of one attempt at `at`: id, timestamp and `v1,` signature."""
    msg_id = message_id(message)
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(floor(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body.encode()),
    }
