"""Outgoing webhooks end to end: endpoints registered through the API, events recorded
with the changes that cause them, delivered by the worker over real HTTP to a receiver
that verifies each signature with the `standardwebhooks` library."""

from __future__ import annotations

import ipaddress
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from webhook_receiver import Receiver, start_receiver

from booking_support import BookableShop, book, customer, open_bookable_shop
from booklnk.api.app import create_app
from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.integrations import delivery, signing
from booklnk.integrations.schedule import DISABLE_AFTER, RETRY_DELAYS
from booklnk.integrations.targets import TargetPolicy
from booklnk.payments.kashier.signing import webhook_signature
from support import FakeClock, JobRunner, add_staff, create_business, log_in, sign_up

CAIRO = ZoneInfo("Africa/Cairo")
LOCAL = TargetPolicy(require_https=False, allow_private=True)
ALL = [
    "booking.created",
    "booking.confirmed",
    "booking.rescheduled",
    "booking.cancelled",
    "booking.checked_in",
    "booking.no_show",
    "booking.completed",
]


@pytest.fixture(scope="module")
def running() -> Iterator[Receiver]:
    receiver, server = start_receiver()
    yield receiver
    server.stop()


@pytest.fixture
def receiver(running: Receiver) -> Receiver:
    running.reset()
    return running


@pytest.fixture
def now(clock: FakeClock) -> datetime:
    """The receiver checks timestamps against the real clock (±5 minutes): the suite's
    clock is set to it."""
    clock.current = datetime.now(UTC).replace(microsecond=0)
    return clock.current


def _tomorrow_at(now: datetime, hour: int) -> str:
    day = now.astimezone(CAIRO).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=CAIRO).isoformat()


async def _register(
    client: httpx.AsyncClient, shop: BookableShop, receiver: Receiver, events: list[str] | None = None
) -> dict[str, Any]:
    response = await client.post(
        f"{shop.url}/webhook-endpoints",
        headers=shop.owner.headers,
        json={"url": receiver.url, "events": events or ALL, "description": "CRM"},
    )
    assert response.status_code == 201, response.text
    endpoint: dict[str, Any] = response.json()
    receiver.secret = endpoint["secret"]
    return endpoint


async def _messages(client: httpx.AsyncClient, shop: BookableShop, endpoint_id: str) -> list[dict[str, Any]]:
    response = await client.get(
        f"{shop.url}/webhook-endpoints/{endpoint_id}/messages", headers=shop.owner.headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_an_endpoint_is_registered_with_a_secret_shown_once(
    client: httpx.AsyncClient, receiver: Receiver, now: datetime
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    endpoint = await _register(client, shop, receiver)
    assert endpoint["secret"].startswith("whsec_")
    assert len(endpoint["secret"]) > 40
    assert endpoint["enabled"] is True
    assert endpoint["events"] == ALL
    path = f"{shop.url}/webhook-endpoints/{endpoint['id']}"
    read = await client.get(path, headers=shop.owner.headers)
    assert read.status_code == 200
    assert "secret" not in read.json()
    listed = await client.get(f"{shop.url}/webhook-endpoints", headers=shop.owner.headers)
    assert [e["id"] for e in listed.json()["items"]] == [endpoint["id"]]
    assert all("secret" not in e for e in listed.json()["items"])
    changed = await client.patch(
        path, headers=shop.owner.headers, json={"events": ["booking.cancelled"], "enabled": False}
    )
    assert (changed.json()["events"], changed.json()["enabled"]) == (["booking.cancelled"], False)
    assert (await client.delete(path, headers=shop.owner.headers)).status_code == 204
    assert (await client.get(path, headers=shop.owner.headers)).json()["code"] == "webhook_endpoint_not_found"


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"url": "ftp://x.example/h", "events": ["booking.created"]}, "body.url", "not_a_url"),
        ({"url": "http://u:p@x.example/h", "events": ["booking.created"]}, "body.url", "credentials"),
        (
            {"url": "http://x.example/" + "a" * 2050, "events": ["booking.created"]},
            "body.url",
            "string_too_long",
        ),
        ({"url": "http://x.example/h", "events": ["booking.eaten"]}, "body.events", "unknown_event"),
        (
            {"url": "http://x.example/h", "events": ["refund.sent", "refund.sent"]},
            "body.events",
            "duplicate_event",
        ),
        ({"url": "http://x.example/h", "events": []}, "body.events", "too_short"),
    ],
)
async def test_inputs_are_bounded_and_a_422_names_the_field_and_rule(
    client: httpx.AsyncClient, body: dict[str, Any], field: str, rule: str
) -> None:
    owner = await sign_up(client, "owner")
    business_id = await create_business(client, owner)
    response = await client.post(
        f"/v1/businesses/{business_id}/webhook-endpoints", headers=owner.headers, json=body
    )
    assert response.status_code == 422, response.text
    assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [(field, rule)]


async def test_a_business_has_at_most_ten_endpoints(client: httpx.AsyncClient) -> None:
    owner = await sign_up(client, "owner")
    business_id = await create_business(client, owner)
    url = f"/v1/businesses/{business_id}/webhook-endpoints"
    body = {"url": "http://127.0.0.1:9/h", "events": ["booking.created"]}
    for _ in range(10):
        assert (await client.post(url, headers=owner.headers, json=body)).status_code == 201
    refused = await client.post(url, headers=owner.headers, json=body)
    assert (refused.status_code, refused.json()["code"], refused.json()["limit"]) == (
        409,
        "too_many_webhook_endpoints",
        10,
    )


async def test_only_owners_manage_endpoints_and_another_business_sees_none(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    endpoint = await _register(client, shop, receiver)
    staff, someone = await sign_up(client, "staff"), await customer(client)
    await add_staff(client, shop.owner, shop.business_id, staff)
    path = f"{shop.url}/webhook-endpoints/{endpoint['id']}"
    for who in (staff, someone):
        for method in ("GET", "PATCH", "DELETE"):
            refused = await client.request(
                method, path, headers=who.headers, json={} if method == "PATCH" else None
            )
            assert (refused.status_code, refused.json()["code"]) == (403, "insufficient_role")
    other = await sign_up(client, "owner")
    other_business = await create_business(client, other)
    elsewhere = f"/v1/businesses/{other_business}/webhook-endpoints/{endpoint['id']}"
    for method in ("GET", "PATCH", "DELETE"):
        missing = await client.request(
            method, elsewhere, headers=other.headers, json={} if method == "PATCH" else None
        )
        assert (missing.status_code, missing.json()["code"]) == (404, "webhook_endpoint_not_found")
    listed = await client.get(f"/v1/businesses/{other_business}/webhook-endpoints", headers=other.headers)
    assert listed.json()["items"] == []


async def test_a_booking_reaches_the_receiver_signed_and_verifiable(
    client: httpx.AsyncClient, receiver: Receiver, run_jobs: JobRunner, now: datetime
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    endpoint = await _register(client, shop, receiver)
    mona = await customer(client)
    booked = await book(client, shop, mona, _tomorrow_at(now, 10))
    assert booked.status_code == 201, booked.text
    await run_jobs()
    got = receiver.received
    assert [d.verified for d in got] == [True, True]
    assert sorted(d.payload["type"] for d in got) == ["booking.confirmed", "booking.created"]
    data = got[0].payload["data"]
    booking = booked.json()
    assert data["id"] == booking["id"]
    assert data["status"] == "confirmed"
    assert data["service"] == {"id": shop.service_id, "name": "Cut"}
    assert data["staff"] == {"id": shop.staff_ids[0], "name": "Barber 0"}
    assert data["customer_id"] == str(mona.user_id)
    assert data["time_zone"] == "Africa/Cairo"
    assert mona.email not in got[0].body.decode()  # no contact details
    ids = {d.headers["webhook-id"] for d in got}
    listed = await _messages(client, shop, endpoint["id"])
    assert {m["webhook_id"] for m in listed} == ids
    assert all(m["status"] == "delivered" and len(m["attempt_log"]) == 1 for m in listed)
    assert listed[0]["attempt_log"][0]["status_code"] == 204

    cancelled = await client.post(f"{shop.url}/bookings/{booking['id']}/cancel", headers=shop.owner.headers)
    assert cancelled.status_code == 200, cancelled.text
    await run_jobs()
    assert [d.payload["type"] for d in receiver.received[2:]] == ["booking.cancelled"]
    assert receiver.received[2].payload["data"]["status"] == "cancelled"


async def test_only_subscribed_events_are_recorded_and_a_rolled_back_change_records_none(
    client: httpx.AsyncClient, receiver: Receiver, owner_engine: AsyncEngine, now: datetime
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    await _register(client, shop, receiver, events=["booking.cancelled"])
    mona, omar = await customer(client), await customer(client)
    assert (
        await book(client, shop, mona, _tomorrow_at(now, 10), staff_id=shop.staff_ids[0])
    ).status_code == 201
    taken = await book(client, shop, omar, _tomorrow_at(now, 10), staff_id=shop.staff_ids[0])
    assert taken.status_code == 409  # refused: its transaction rolled back
    async with owner_engine.connect() as conn:
        count = await conn.execute(text("SELECT count(*) FROM webhook_message"))
        assert count.scalar_one() == 0  # not subscribed to creation, and nothing invented


async def _owner_told(engine: AsyncEngine, shop: BookableShop) -> list[tuple[str, bool]]:
    """The owner's e-mails about the business's webhooks (template, `gone`)."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT template, (params->>'gone')::boolean FROM outbox_message"
                " WHERE address = :email AND template LIKE 'webhook%' AND channel = 'email'"
            ),
            {"email": shop.owner.email},
        )
        return [(row[0], row[1]) for row in rows]


async def _one_message(client: httpx.AsyncClient, shop: BookableShop, endpoint_id: str) -> dict[str, Any]:
    (message,) = await _messages(client, shop, endpoint_id)
    return message


async def test_a_failing_receiver_gets_retries_then_the_delivery_succeeds_once(
    client: httpx.AsyncClient,
    receiver: Receiver,
    run_jobs: JobRunner,
    db: Database,
    clock: FakeClock,
    now: datetime,
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    endpoint = await _register(client, shop, receiver, events=["booking.created"])
    receiver.fail(1)
    booked = await book(client, shop, await customer(client), _tomorrow_at(now, 11))
    assert booked.status_code == 201
    await run_jobs()
    message = await _one_message(client, shop, endpoint["id"])
    assert (message["status"], message["attempts"]) == ("pending", 1)
    assert message["attempt_log"][0]["status_code"] == 500
    assert message["attempt_log"][0]["response_excerpt"] == "not now"
    assert datetime.fromisoformat(message["next_attempt_at"]) == now + RETRY_DELAYS[0]

    message_id = uuid.UUID(message["id"])
    async with httpx.AsyncClient() as http:
        assert (
            await delivery.deliver(db, http, shop.business_id, message_id, now=clock.now(), policy=LOCAL)
            == "early"
        )
        clock.advance(RETRY_DELAYS[0])
        assert (
            await delivery.deliver(db, http, shop.business_id, message_id, now=clock.now(), policy=LOCAL)
            == "delivered"
        )
        # A job run again after the success sends nothing.
        assert (
            await delivery.deliver(db, http, shop.business_id, message_id, now=clock.now(), policy=LOCAL)
            == "already"
        )
    await run_jobs()
    got = receiver.received
    assert [d.verified for d in got] == [False, True]
    assert got[0].headers["webhook-id"] == got[1].headers["webhook-id"]  # one id across retries
    assert got[0].body == got[1].body
    message = await _one_message(client, shop, endpoint["id"])
    assert (message["status"], message["attempts"], message["next_attempt_at"]) == ("delivered", 2, None)
    assert [a["status_code"] for a in message["attempt_log"]] == [500, 204]

    # The owner asks for it again: the same id, a new attempt.
    again = await client.post(
        f"{shop.url}/webhook-endpoints/{endpoint['id']}/messages/{message['id']}/redeliver",
        headers=shop.owner.headers,
    )
    assert again.status_code == 202, again.text
    await run_jobs()
    got = receiver.received
    assert len(got) == 3
    assert got[2].verified
    assert got[2].headers["webhook-id"] == got[0].headers["webhook-id"]
    message = await _one_message(client, shop, endpoint["id"])
    assert (message["status"], message["attempts"]) == ("delivered", 3)


async def test_an_exhausted_schedule_fails_the_message_and_five_failing_days_disable_the_endpoint(
    client: httpx.AsyncClient,
    receiver: Receiver,
    run_jobs: JobRunner,
    db: Database,
    owner_engine: AsyncEngine,
    clock: FakeClock,
    now: datetime,
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    endpoint = await _register(client, shop, receiver, events=["booking.created"])
    receiver.fail(1000)
    assert (await book(client, shop, await customer(client), _tomorrow_at(now, 12))).status_code == 201
    await run_jobs()
    message_id = uuid.UUID((await _one_message(client, shop, endpoint["id"]))["id"])
    async with httpx.AsyncClient() as http:
        for wait in RETRY_DELAYS:
            clock.advance(wait)
            await delivery.deliver(db, http, shop.business_id, message_id, now=clock.now(), policy=LOCAL)
    shop = replace(shop, owner=await log_in(client, shop.owner.email, shop.owner.user_id))  # (a day later)
    message = await _one_message(client, shop, endpoint["id"])
    assert (message["status"], message["attempts"], message["next_attempt_at"]) == ("failed", 8, None)
    path = f"{shop.url}/webhook-endpoints/{endpoint['id']}"
    still = (await client.get(path, headers=shop.owner.headers)).json()
    assert still["enabled"] is True
    assert datetime.fromisoformat(still["failing_since"]) == now

    clock.current = now + DISABLE_AFTER  # five days of nothing but failures
    shop = replace(shop, owner=await log_in(client, shop.owner.email, shop.owner.user_id))
    assert (
        await book(client, shop, await customer(client), _tomorrow_at(clock.current, 12))
    ).status_code == 201
    await run_jobs()
    disabled = (await client.get(path, headers=shop.owner.headers)).json()
    assert disabled["enabled"] is False
    assert "five days" in disabled["disabled_reason"]
    assert await _owner_told(owner_engine, shop) == [("webhook_endpoint_disabled", False)]
    # Nothing more is recorded for it, and redelivery waits for the owner to enable it.
    assert (
        await book(client, shop, await customer(client), _tomorrow_at(clock.current, 13))
    ).status_code == 201
    assert len(await _messages(client, shop, endpoint["id"])) == 2
    refused = await client.post(f"{path}/messages/{message_id}/redeliver", headers=shop.owner.headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "webhook_endpoint_disabled")
    enabled = await client.patch(path, headers=shop.owner.headers, json={"enabled": True})
    assert (
        enabled.json()["enabled"],
        enabled.json()["disabled_reason"],
        enabled.json()["failing_since"],
    ) == (
        True,
        None,
        None,
    )


async def test_an_endpoint_answering_410_gone_is_disabled_at_once(
    client: httpx.AsyncClient,
    receiver: Receiver,
    run_jobs: JobRunner,
    owner_engine: AsyncEngine,
    now: datetime,
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    endpoint = await _register(client, shop, receiver, events=["booking.created"])
    receiver.fail(1, status=410)
    assert (await book(client, shop, await customer(client), _tomorrow_at(now, 14))).status_code == 201
    await run_jobs()
    read = (
        await client.get(f"{shop.url}/webhook-endpoints/{endpoint['id']}", headers=shop.owner.headers)
    ).json()
    assert (read["enabled"], read["disabled_reason"]) == (False, "The endpoint answered 410 Gone.")
    assert (await _one_message(client, shop, endpoint["id"]))["status"] == "failed"
    assert await _owner_told(owner_engine, shop) == [("webhook_endpoint_disabled", True)]


@pytest.fixture
async def production_like(
    db: Database, settings: Settings, clock: FakeClock
) -> AsyncIterator[httpx.AsyncClient]:
    """The app as production judges targets: no private or loopback address."""
    strict = settings.model_copy(update={"webhook_allow_private_targets": False})
    transport = httpx.ASGITransport(app=create_app(strict, db, clock=clock), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:192.168.0.1]/hook",
    ],
)
async def test_private_targets_are_refused_at_registration(
    production_like: httpx.AsyncClient, url: str
) -> None:
    owner = await sign_up(production_like, "owner")
    business_id = await create_business(production_like, owner)
    response = await production_like.post(
        f"/v1/businesses/{business_id}/webhook-endpoints",
        headers=owner.headers,
        json={"url": url, "events": ["booking.created"]},
    )
    assert response.status_code == 422, response.text
    assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [("body.url", "private_address")]


async def test_a_target_that_became_private_is_refused_at_delivery(
    client: httpx.AsyncClient,
    receiver: Receiver,
    run_jobs: JobRunner,
    db: Database,
    clock: FakeClock,
    now: datetime,
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    endpoint = await _register(client, shop, receiver, events=["booking.created"])
    receiver.fail(1)  # the job's own attempt fails; the next is judged strictly
    assert (await book(client, shop, await customer(client), _tomorrow_at(now, 15))).status_code == 201
    await run_jobs()
    message = await _one_message(client, shop, endpoint["id"])
    clock.advance(RETRY_DELAYS[0])
    strict = TargetPolicy(require_https=False, allow_private=False)
    async with httpx.AsyncClient() as http:
        outcome = await delivery.deliver(
            db, http, shop.business_id, uuid.UUID(message["id"]), now=clock.now(), policy=strict
        )
    assert outcome == "retrying"
    assert len(receiver.received) == 1  # nothing was sent
    log = (await _one_message(client, shop, endpoint["id"]))["attempt_log"]
    assert (log[1]["status_code"], log[1]["error"]) == (None, "refused: private_address")


async def test_redirects_are_never_followed(
    client: httpx.AsyncClient, receiver: Receiver, run_jobs: JobRunner, now: datetime
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    endpoint = await _register(client, shop, receiver, events=["booking.created"])
    receiver.fail(1, status=307)
    assert (await book(client, shop, await customer(client), _tomorrow_at(now, 16))).status_code == 201
    await run_jobs()
    message = await _one_message(client, shop, endpoint["id"])
    assert (message["status"], message["attempt_log"][0]["status_code"]) == ("pending", 307)
    assert len(receiver.received) == 1


async def _kashier_pays(client: httpx.AsyncClient, settings: Settings, order_id: str, amount: float) -> None:
    data = {
        "merchantOrderId": order_id,
        "kashierOrderId": f"k-{uuid.uuid4().hex[:8]}",
        "transactionId": f"TX-{uuid.uuid4().hex[:8]}",
        "status": "SUCCESS",
        "method": "card",
        "amount": amount,
        "currency": "EGP",
        "signatureKeys": ["amount", "currency", "merchantOrderId", "method", "status", "transactionId"],
    }
    api_key = settings.kashier_api_key.get_secret_value()
    headers = {"content-type": "application/json", "x-kashier-signature": webhook_signature(api_key, data)}
    body = json.dumps({"event": "pay", "data": data})
    assert (await client.post("/v1/webhooks/kashier", content=body, headers=headers)).status_code == 200


async def test_money_received_online_is_told_once(
    client: httpx.AsyncClient, receiver: Receiver, run_jobs: JobRunner, settings: Settings, now: datetime
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    await _register(client, shop, receiver, events=["payment.received"])
    mona = await customer(client)
    booking = (await book(client, shop, mona, _tomorrow_at(now, 17))).json()
    checkout = await client.post(
        f"{shop.url}/bookings/{booking['id']}/payments", headers=mona.headers, json={"method": "card"}
    )
    assert checkout.status_code == 201, checkout.text
    order_id = checkout.json()["kashier"]["order_id"]
    await _kashier_pays(client, settings, order_id, 150.0)
    await run_jobs()
    (paid,) = receiver.received
    assert paid.verified
    assert paid.payload["type"] == "payment.received"
    assert paid.payload["data"] | {"transaction_id": None} == {
        "booking_id": booking["id"],
        "business_id": str(shop.business_id),
        "order_id": order_id,
        "amount_minor": 15000,
        "currency": "EGP",
        "method": "card",
        "purpose": "balance",
        "transaction_id": None,
    }


async def test_staff_actions_are_told_in_order(
    client: httpx.AsyncClient, receiver: Receiver, clock: FakeClock, now: datetime
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    await _register(
        client, shop, receiver, events=["booking.checked_in", "booking.completed", "booking.rescheduled"]
    )
    mona = await customer(client)
    booking = (await book(client, shop, mona, _tomorrow_at(now, 10))).json()
    moved = await client.post(
        f"{shop.url}/bookings/{booking['id']}/reschedule",
        headers=mona.headers,
        json={"starts_at": _tomorrow_at(now, 11)},
    )
    assert moved.status_code == 200, moved.text
    clock.current = datetime.fromisoformat(moved.json()["starts_at"])
    shop = replace(shop, owner=await log_in(client, shop.owner.email, shop.owner.user_id))
    for action in ("check-in", "complete"):
        done = await client.post(f"{shop.url}/bookings/{booking['id']}/{action}", headers=shop.owner.headers)
        assert done.status_code == 200, done.text
        clock.advance(timedelta(minutes=1))
    # (Recorded at the booking's time, ahead of the receiver's clock: read from the log.)
    endpoint_id = (await client.get(f"{shop.url}/webhook-endpoints", headers=shop.owner.headers)).json()[
        "items"
    ]
    told = [
        (m["payload"]["type"], m["payload"]["data"]["status"])
        for m in await _messages(client, shop, endpoint_id[0]["id"])
    ]
    assert told == [
        ("booking.completed", "completed"),  # newest first
        ("booking.checked_in", "checked_in"),
        ("booking.rescheduled", "confirmed"),
    ]


async def test_a_due_message_whose_job_is_gone_gets_a_new_one(
    client: httpx.AsyncClient,
    receiver: Receiver,
    run_jobs: JobRunner,
    db: Database,
    owner_engine: AsyncEngine,
    clock: FakeClock,
    now: datetime,
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    endpoint = await _register(client, shop, receiver, events=["booking.created"])
    receiver.fail(1)
    assert (await book(client, shop, await customer(client), _tomorrow_at(now, 9))).status_code == 201
    await run_jobs()  # the first attempt fails: a retry job waits for its time
    clock.advance(RETRY_DELAYS[0])
    async with db.transaction(tenant_id=shop.business_id) as session:
        assert await delivery.requeue_due(session, shop.business_id, now=clock.now()) == 0  # it has a job
    async with owner_engine.begin() as conn:  # the job is lost (out of retries, say)
        await conn.execute(
            text("DELETE FROM procrastinate_jobs WHERE task_name = 'integrations.deliver_webhook'")
        )
    async with db.transaction(tenant_id=shop.business_id) as session:
        requeued = await delivery.requeue_due(session, shop.business_id, now=clock.now())
    async with db.transaction(tenant_id=shop.business_id) as session:
        assert (
            await delivery.requeue_due(session, shop.business_id, now=clock.now()) == 0
        )  # one job is enough
    await run_jobs()
    message = await _one_message(client, shop, endpoint["id"])
    assert (requeued, message["status"], message["attempts"]) == (1, "delivered", 2)


async def test_a_huge_answer_is_logged_by_its_first_thousand_characters(
    client: httpx.AsyncClient, receiver: Receiver, run_jobs: JobRunner, now: datetime
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    endpoint = await _register(client, shop, receiver, events=["booking.created"])
    receiver.fail(1, status=503, body="ب" * 2_000_000)  # 4 MB: read no further than needed
    assert (await book(client, shop, await customer(client), _tomorrow_at(now, 17))).status_code == 201
    await run_jobs()
    (attempt,) = (await _one_message(client, shop, endpoint["id"]))["attempt_log"]
    assert (attempt["status_code"], attempt["response_excerpt"]) == (503, "ب" * 1000)


async def test_an_endpoint_that_is_not_there_is_logged_and_retried(
    client: httpx.AsyncClient, receiver: Receiver, run_jobs: JobRunner, now: datetime
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    nobody = receiver.url.rsplit(":", 1)[0] + ":9/hook"  # nothing listens on port 9 (discard)
    created = await client.post(
        f"{shop.url}/webhook-endpoints",
        headers=shop.owner.headers,
        json={"url": nobody, "events": ["booking.created"]},
    )
    assert created.status_code == 201, created.text
    assert (await book(client, shop, await customer(client), _tomorrow_at(now, 13))).status_code == 201
    await run_jobs()
    message = await _one_message(client, shop, created.json()["id"])
    (attempt,) = message["attempt_log"]
    assert message["status"] == "pending"
    assert attempt["status_code"] is None
    assert attempt["error"].startswith("ConnectError")


async def test_a_checked_address_is_the_one_connected_to(receiver: Receiver) -> None:
    """No second lookup between the check and the connection (DNS rebinding): the request
    goes to the address checked, its host named in `Host` (a name that resolves nowhere
    proves that nothing looked it up again)."""
    receiver.secret = signing.new_secret()
    port = receiver.url.rsplit(":", 1)[1].split("/", 1)[0]
    url = f"http://pinned.invalid:{port}/hook"
    body = '{"type":"booking.created","timestamp":"2026-12-06T09:00:00Z","data":{}}'
    headers = signing.headers(receiver.secret, uuid.uuid4(), datetime.now(UTC), body)
    async with httpx.AsyncClient() as http:
        status, _ = await delivery.exchange(http, url, body, headers, ipaddress.ip_address("127.0.0.1"))
    (got,) = receiver.received
    assert (status, got.verified, got.headers["host"]) == (204, True, f"pinned.invalid:{port}")


async def test_new_customers_are_told_whether_staff_add_them_or_they_book(
    client: httpx.AsyncClient, receiver: Receiver, run_jobs: JobRunner, now: datetime
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    await _register(client, shop, receiver, ["customer.created"])
    added = await client.post(f"{shop.url}/customers", headers=shop.owner.headers, json={"name": "Hany"})
    assert added.status_code == 201, added.text
    mona = await customer(client)
    assert (await book(client, shop, mona, _tomorrow_at(now, 10))).status_code == 201
    assert (await book(client, shop, mona, _tomorrow_at(now, 11))).status_code == 201  # known by now
    await run_jobs()
    got = [d.payload["data"] for d in receiver.received if d.verified]
    assert [d.payload["type"] for d in receiver.received] == ["customer.created"] * 2
    (by_booking,) = [data for data in got if data["account_id"] == str(mona.user_id)]
    records = (await client.get(f"{shop.url}/customers", headers=shop.owner.headers)).json()["items"]
    assert {data["id"] for data in got} == {record["id"] for record in records}
    assert by_booking["business_id"] == str(shop.business_id)
    assert "Hany" not in json.dumps(got)  # ids only, as a booking's events
