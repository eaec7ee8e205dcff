"""The owners told, by e-mail through the notifications outbox, when one of their webhook
endpoints is disabled: in the transaction that disables it, once per owner and disabling."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.integrations import repository
from booklnk.integrations.models import WebhookEndpoint
from booklnk.notifications import outbox

TEMPLATE = "webhook_endpoint_disabled"
_WORTH_SENDING = timedelta(days=7)


async def tell_owners(session: AsyncSession, endpoint: WebhookEndpoint, *, gone: bool, now: datetime) -> int:
    """A message to each owner of the endpoint's business; how many were recorded."""
    name, time_zone = await repository.business_name_and_zone(session, endpoint.business_id)
    since = endpoint.failing_since or now
    told = 0
    for user_id, email, language in await repository.owners_to_tell(session, endpoint.business_id):
        message = outbox.Message(
            address=email,
            template=TEMPLATE,
            language=language,
            params={
                "business": name,
                "url": endpoint.url,
                "gone": gone,
                "since": since.isoformat(),
                "time_zone": time_zone,
            },
            user_id=user_id,
            business_id=endpoint.business_id,
            expires_at=now + _WORTH_SENDING,
            dedupe_key=f"webhook_disabled:{endpoint.id}:{now.isoformat()}:{user_id}",
        )
        if await outbox.record(session, message, now=now) is not None:
            told += 1
    return told
