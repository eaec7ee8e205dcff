"""The integrations domain's error kinds, each with a stable code."""

from __future__ import annotations

from booklnk.kernel.errors import Conflict, NotFound


class EndpointNotFound(NotFound):
    code = "webhook_endpoint_not_found"


class WebhookMessageNotFound(NotFound):
    code = "webhook_message_not_found"


class TooManyEndpoints(Conflict):
    code = "too_many_webhook_endpoints"


class EndpointDisabled(Conflict):
    code = "webhook_endpoint_disabled"
