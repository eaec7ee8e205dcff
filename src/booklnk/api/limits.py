"""Per-address request limits on the routes anyone can call in a loop (issue 10):
registration, login, booking creation (and paying by a pay link, which opens a Kashier order
just as well: the same limit) and Kashier's webhook.

Each is a `RateLimiter` (per process, in memory; see rate_limit) built once with the app
from its setting, and taken by a route dependency before anything else runs, so a
refused request opens no transaction and checks no password. Refused: 429
`too_many_requests` with `Retry-After`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from fastapi import Request

from booklnk.api.deps import client_address
from booklnk.api.rate_limit import RateLimiter
from booklnk.config import Settings
from booklnk.kernel.errors import TooManyRequests, ValidationFailed
from booklnk.payments import webhooks
from booklnk.payments.kashier.signing import WebhookCheck, check_webhook

Limit = Literal["registrations", "logins", "bookings", "webhooks"]
PER_MINUTE = 60.0


def build(settings: Settings) -> dict[Limit, RateLimiter]:
    return {
        "registrations": RateLimiter(settings.registrations_per_minute, PER_MINUTE),
        "logins": RateLimiter(settings.logins_per_minute, PER_MINUTE),
        "bookings": RateLimiter(settings.bookings_per_minute, PER_MINUTE),
        "webhooks": RateLimiter(settings.webhooks_per_minute, PER_MINUTE),
    }


def _refuse(retry_after_seconds: int) -> TooManyRequests:
    return TooManyRequests(
        "Too many requests from this address; try again later.", retry_after_seconds=retry_after_seconds
    )


def per_address(limit: Limit) -> Callable[[Request], Awaitable[None]]:
    """A dependency: one request of this client address against `limit`."""

    async def take(request: Request) -> None:
        limiter: RateLimiter = request.app.state.limits[limit]
        decision = limiter.take(client_address(request))
        if not decision.allowed:
            raise _refuse(decision.retry_after_seconds)

    return take


async def webhook_limited(request: Request) -> None:
    """Kashier's webhooks, per address: every business's payments come from Kashier's few
    addresses, so its real traffic must never be refused. Past the limit, a delivery whose
    signature verifies is still let through (only Kashier can sign; a replayed one is
    stored once and acknowledged as a duplicate); anything else answers 429 before a
    transaction is opened. The body is already capped by the webhook's size limit."""
    limiter: RateLimiter = request.app.state.limits["webhooks"]
    decision = limiter.take(client_address(request))
    if decision.allowed or _signed_by_kashier(request, await request.body()):
        return
    raise _refuse(decision.retry_after_seconds)


def _signed_by_kashier(request: Request, body: bytes) -> bool:
    settings: Settings = request.app.state.settings
    try:
        _, data = webhooks.parse(body)
    except ValidationFailed:
        return False
    signature = request.headers.get("x-kashier-signature")
    return check_webhook(settings.kashier_api_key.get_secret_value(), data, signature) is WebhookCheck.OK
