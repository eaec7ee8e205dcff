"""What Kashier's webhooks did is counted for Prometheus: the API counts those it answered
by event and outcome (new, duplicate, ignored), the worker those it applied by what they
did. Before, only HTTP status codes were counted: a storm of duplicates, or money flagged
for a person, looked like any other 200."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import httpx
from flow_support import post_webhook, webhook_data
from kashier_support import API_KEY
from prometheus_client import REGISTRY


def _count(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_webhooks_are_counted_as_received_and_as_applied(
    client: httpx.AsyncClient, run_jobs: Callable[[], Awaitable[None]]
) -> None:
    received = "booklnk_webhooks_received_total"
    before = {
        outcome: _count(received, event=event, outcome=outcome)
        for event, outcome in (("pay", "new"), ("pay", "duplicate"), ("other", "ignored"))
    }
    applied_before = _count("booklnk_webhooks_applied_total", outcome="unknown_order")
    data = webhook_data(f"nobody-{uuid.uuid4().hex[:8]}", f"TX-{uuid.uuid4().hex[:8]}", 10.0)
    for event in ("pay", "pay", "card.saved"):  # new, a retry, an event Kashier adds later
        assert (await post_webhook(client, event, data, API_KEY)).status_code == 200
    assert _count(received, event="pay", outcome="new") == before["new"] + 1
    assert _count(received, event="pay", outcome="duplicate") == before["duplicate"] + 1
    assert _count(received, event="other", outcome="ignored") == before["ignored"] + 1

    await run_jobs()  # money for an order we never issued: kept and flagged
    assert _count("booklnk_webhooks_applied_total", outcome="unknown_order") == applied_before + 1
