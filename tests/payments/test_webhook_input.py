"""Whatever a verified webhook carries, the answer is never a 500 and the delivery is
never lost: signed fields that do not fit (an amount that is not one or is beyond a
bigint, an unknown currency, an id longer than its column, a NUL) are stored once,
flagged `flagged_malformed`, acknowledged 2xx and never applied. In-process app, real
PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from flow_support import post_webhook, webhook_data
from kashier_support import API_KEY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.db.database import Database
from booklnk.payments.kashier.signing import webhook_signature
from support import statements

MALFORMED: dict[str, dict[str, Any]] = {
    "amount not a number": {"amount": "one hundred"},
    "amount with a fraction of a piaster": {"amount": 10.001},
    "amount beyond bigint": {"amount": 1e30},
    "amount beyond every double": {"amount": 10**400},
    "negative amount": {"amount": -5},
    "amount null": {"amount": None},
    "unknown currency": {"currency": "XYZ"},
    "currency too long": {"currency": "EGPX"},
    "transaction id too long": {"transactionId": "T" * 101},
    "status too long": {"status": "S" * 21},
    "order id too long": {"merchantOrderId": "o" * 101},
    "transaction id empty": {"transactionId": ""},
    "transaction id an object": {"transactionId": {"id": 1}},
    "nul in the transaction id": {"transactionId": "TX-\x00-1"},
}


async def _deliveries(engine: AsyncEngine) -> list[tuple[str, str | None, bool]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT event, outcome, applied_at IS NOT NULL FROM webhook_delivery ORDER BY id")
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


@pytest.mark.parametrize("change", MALFORMED.values(), ids=list(MALFORMED))
async def test_a_verified_webhook_that_does_not_fit_is_kept_flagged_and_acknowledged(
    client: httpx.AsyncClient, db: Database, owner_engine: AsyncEngine, change: dict[str, Any]
) -> None:
    data = {**webhook_data("bk-some-order", "TX-1", 150.01), **change}
    first = await post_webhook(client, "pay", data, API_KEY)
    assert (first.status_code, first.json()) == (
        200,
        {"received": True, "duplicate": False, "ignored": False},
    ), first.text
    again = await post_webhook(client, "pay", data, API_KEY)  # Kashier retries: stored once
    assert (again.status_code, again.json()["duplicate"]) == (200, True)
    assert await _deliveries(owner_engine) == [("pay", "flagged_malformed", True)]


async def test_a_nul_in_an_unsigned_field_is_stored_as_its_escape(
    client: httpx.AsyncClient, db: Database, owner_engine: AsyncEngine
) -> None:
    data = webhook_data("bk-some-order", "TX-2", 150.01, metaData={"note": "a\x00b"})
    response = await post_webhook(client, "pay", data, API_KEY)
    assert response.status_code == 200, response.text
    async with owner_engine.connect() as conn:
        note = await conn.scalar(text("SELECT payload->'data'->'metaData'->>'note' FROM webhook_delivery"))
    assert note == "a\\u0000b"


async def test_a_body_nested_too_deep_is_refused_with_422(client: httpx.AsyncClient, db: Database) -> None:
    data = webhook_data("bk-some-order", "TX-3", 150.01, metaData=json.loads("[" * 500 + "]" * 500))
    headers = {"content-type": "application/json", "x-kashier-signature": webhook_signature(API_KEY, data)}
    body = json.dumps({"event": "pay", "data": data})
    response = await client.post("/v1/webhooks/kashier", content=body, headers=headers)
    assert (response.status_code, response.json()["errors"][0]["rule"]) == (422, "max_depth")


async def test_a_signed_event_kashier_does_not_document_is_acknowledged_and_logged(
    client: httpx.AsyncClient, db: Database, owner_engine: AsyncEngine
) -> None:
    """Refusing it (422) would make Kashier retry it for a day; nothing is applied."""
    data = webhook_data("bk-unknown-event", "TX-chargeback-1", 150.0)
    answer = await post_webhook(client, "chargeback", data, API_KEY)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"received": True, "duplicate": False, "ignored": True}
    assert await _deliveries(owner_engine) == []
    forged = await post_webhook(client, "chargeback", data, "another-key")
    assert forged.status_code == 401  # the signature is still checked first


async def test_a_webhook_is_stored_and_its_application_queued_in_one_statement(
    client: httpx.AsyncClient, db: Database, owner_engine: AsyncEngine
) -> None:
    """The intake's round trips are its cost at 64 senders: the context, then the delivery
    with its job (which carries the id the database gave the delivery); a retry of the same
    event stores and queues nothing."""
    data = webhook_data("bk-some-order", "TX-1", 150.0)
    with statements(db) as sent:
        first = await post_webhook(client, "pay", data, API_KEY)
    assert first.json()["duplicate"] is False, first.text
    assert len(sent) == 2, "\n".join(sent)
    again = await post_webhook(client, "pay", data, API_KEY)
    assert again.json()["duplicate"] is True
    async with owner_engine.connect() as conn:
        stored = (await conn.execute(text("SELECT id FROM webhook_delivery"))).scalars().all()
        queued = (
            await conn.execute(
                text("SELECT args, lock FROM procrastinate_jobs WHERE task_name = 'payments.apply_webhook'")
            )
        ).all()
    assert len(stored) == 1
    assert [(args["delivery_id"], lock) for args, lock in queued] == [(stored[0], "order:bk-some-order")]
