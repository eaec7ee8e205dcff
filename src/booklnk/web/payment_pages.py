"""Paying from the web app: a checkout on Kashier's hosted page that returns the customer
to the booking's own status page (Kashier's signed redirect lands on the API's return
route, which sends the browser on to it with the outcome)."""

from __future__ import annotations

import uuid

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.bootstrap import checkout_callbacks, kashier_config
from booklnk.payments import checkout
from booklnk.tenancy.context import BusinessContext
from booklnk.web.guard import now_of, settings_of


def status_path(language: str, business_id: uuid.UUID, booking_id: uuid.UUID) -> str:
    return f"/{language}/my/{business_id}/{booking_id}"


async def checkout_url(
    request: Request,
    tx: AsyncSession,
    ctx: BusinessContext,
    booking_id: uuid.UUID,
    method: str,
    language: str,
) -> str:
    """A new payment attempt for the booking; the hosted page's URL, in the reader's language."""
    settings = settings_of(request)
    back = settings.public_base_url.rstrip("/") + status_path(language, ctx.business_id, booking_id)
    started = await checkout.start(
        tx,
        ctx,
        booking_id,
        method,
        kashier=kashier_config(settings),
        callbacks=checkout_callbacks(settings),
        now=now_of(request),
        display=language,
        pages=checkout.ReturnPages(return_url=back, cancel_url=back),
        method_field="form.method",
    )
    return started.url
