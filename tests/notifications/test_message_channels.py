"""A booking's messages by the customer's channels, over the providers' real protocols (the
suite's WhatsApp Cloud API and Cequens simulators, over HTTP): WhatsApp first for a proven
number; what a channel cannot deliver (refused at once, or reported failed later) goes on by
the next; the providers' reports are verified, kept once, and move the status forward only;
an outage delays a message and loses none."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booking_support import BookableShop, book, customer, open_bookable_shop
from booklnk.api.app import create_app
from booklnk.bootstrap import cequens_config, whatsapp_config
from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.notifications import delivery, whatsapp
from booklnk.notifications.channel import Outgoing
from booklnk.notifications.models import Channel
from booklnk.notifications.reports import Status, advanced
from booklnk.notifications.simulators.sms import SmsStore
from booklnk.notifications.simulators.whatsapp import WhatsAppSim
from booklnk.notifications.sms import report_link
from mail_server import Mailbox
from support import OUTBOX, Account, JobRunner

THURSDAY_10 = "2026-11-26T10:00:00+02:00"  # the suite's clock: Tuesday 2026-11-24 11:00 Cairo
PHONE = "+201001234567"


async def _with_phone(
    client: httpx.AsyncClient, account: Account, phone: str = PHONE, **profile: object
) -> None:
    await client.post("/v1/me/phone", json={"phone": phone, "channel": "sms"}, headers=account.headers)
    proven = await client.post(
        "/v1/me/phone/verify", json={"phone": phone, "code": OUTBOX.code(phone)}, headers=account.headers
    )
    assert proven.status_code == 200, proven.text
    if profile:
        assert (await client.patch("/v1/me", json=profile, headers=account.headers)).status_code == 200


async def _booked(client: httpx.AsyncClient, shop: BookableShop, who: Account) -> str:
    response = await book(client, shop, who, THURSDAY_10)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _messages(owner_engine: AsyncEngine, booking_id: str) -> list[dict[str, object]]:
    async with owner_engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT id, template, channel, status, delivery_status, provider_message_id"
                " FROM outbox_message WHERE booking_id = :b AND template = 'booking_confirmed' ORDER BY seq"
            ),
            {"b": booking_id},
        )
        return [dict(r._mapping) for r in rows]


async def _post_statuses(client: httpx.AsyncClient, cloud: WhatsAppSim) -> list[int]:
    """The simulator's status webhooks, delivered to the app as Meta would (signed bytes)."""
    applied = []
    for callback in cloud.callbacks():
        answer = await client.post(
            "/v1/webhooks/whatsapp", content=callback.body, headers=dict(callback.headers)
        )
        assert answer.status_code == 200, answer.text
        applied.append(answer.json()["applied"])
    return applied


async def test_a_customer_with_a_proven_number_is_told_on_whatsapp_and_its_reports_are_kept_once(
    client: httpx.AsyncClient,
    run_jobs: JobRunner,
    whatsapp_cloud: WhatsAppSim,
    mailbox: Mailbox,
    owner_engine: AsyncEngine,
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    await _with_phone(client, mona)
    await client.patch("/v1/me", json={"language": "ar"}, headers=mona.headers)
    booking_id = await _booked(client, shop, mona)
    await run_jobs()
    (sent,) = [m for m in whatsapp_cloud.messages(to=PHONE) if m["template"] == "booklnk_booking_confirmed"]
    assert (sent["template"], sent["language"]) == ("booklnk_booking_confirmed", "ar")
    assert sent["reference"].endswith(str((await _messages(owner_engine, booking_id))[0]["id"]))
    (message,) = await _messages(owner_engine, booking_id)
    assert (message["channel"], message["status"], message["provider_message_id"]) == (
        "whatsapp",
        "sent",
        sent["id"],
    )
    assert [m for m in mailbox.messages(to=mona.email) if "booking" in str(m["Subject"]).lower()] == []

    # Sent and delivered for the confirmation (and the two reminders, already due by the
    # suite's clock): each kept; Meta's retries of them are not.
    assert await _post_statuses(client, whatsapp_cloud) == [1] * 6
    assert await _post_statuses(client, whatsapp_cloud) == [0] * 6
    (message,) = await _messages(owner_engine, booking_id)
    assert message["delivery_status"] == "delivered"
    listed = await client.get(f"{shop.url}/bookings/{booking_id}/messages", headers=shop.owner.headers)
    assert listed.json()["items"][0]["delivery_status"] == "delivered"


async def test_a_number_not_on_whatsapp_is_told_by_sms(
    client: httpx.AsyncClient,
    run_jobs: JobRunner,
    whatsapp_cloud: WhatsAppSim,
    sms_gateway: SmsStore,
    owner_engine: AsyncEngine,
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    await _with_phone(client, mona, language="ar")
    whatsapp_cloud.set_faults({"not_on_whatsapp": [PHONE]})
    booking_id = await _booked(client, shop, mona)
    await run_jobs()
    assert [(m["channel"], m["status"]) for m in await _messages(owner_engine, booking_id)] == [
        ("whatsapp", "failed"),
        ("sms", "sent"),
    ]
    (texted,) = [m for m in sms_gateway.newest_first(PHONE) if "تم الحجز" in m.text]
    assert (texted.type, texted.parts) == ("unicode", 2)


async def test_a_whatsapp_message_reported_failed_goes_on_by_sms(
    client: httpx.AsyncClient,
    run_jobs: JobRunner,
    whatsapp_cloud: WhatsAppSim,
    sms_gateway: SmsStore,
    owner_engine: AsyncEngine,
) -> None:
    """Meta may accept a message and report it failed later (131026: undeliverable)."""
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    await _with_phone(client, mona)
    whatsapp_cloud.set_faults({"unreachable": [PHONE]})
    booking_id = await _booked(client, shop, mona)
    await run_jobs()
    assert [m["channel"] for m in await _messages(owner_engine, booking_id)] == ["whatsapp"]
    await _post_statuses(client, whatsapp_cloud)
    await _post_statuses(client, whatsapp_cloud)  # a repeat hands nothing on twice
    await run_jobs()
    found = await _messages(owner_engine, booking_id)
    assert [(m["channel"], m["status"], m["delivery_status"]) for m in found] == [
        ("whatsapp", "sent", "failed"),
        ("sms", "sent", None),
    ]
    assert any(m.text.startswith("Booked:") for m in sms_gateway.newest_first(PHONE))


async def test_a_whatsapp_outage_delays_the_message_and_loses_nothing(
    client: httpx.AsyncClient,
    run_jobs: JobRunner,
    whatsapp_cloud: WhatsAppSim,
    owner_engine: AsyncEngine,
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    await _with_phone(client, mona)
    whatsapp_cloud.set_faults({"status": 500, "count": 1000})
    booking_id = await _booked(client, shop, mona)
    with pytest.raises(AssertionError):  # (run_jobs refuses to end quietly on a failed job)
        await run_jobs()
    (message,) = await _messages(owner_engine, booking_id)
    assert message["status"] == "pending"
    async with owner_engine.connect() as conn:
        attempts = await conn.execute(
            text("SELECT outcome, detail FROM message_attempt WHERE message_id = :m"), {"m": message["id"]}
        )
    assert [tuple(a) for a in attempts] == [("failed", "whatsapp unavailable (HTTP 500, code 131000)")]
    whatsapp_cloud.clear_faults()
    async with owner_engine.begin() as conn:  # the retry's time has come
        await conn.execute(text("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo'"))
    await run_jobs()
    (message,) = await _messages(owner_engine, booking_id)
    assert message["status"] == "sent"
    confirmations = [
        m for m in whatsapp_cloud.messages(to=PHONE) if m["template"] == "booklnk_booking_confirmed"
    ]
    assert len(confirmations) == 1


async def test_channels_left_out_are_opted_out_of(
    client: httpx.AsyncClient,
    run_jobs: JobRunner,
    whatsapp_cloud: WhatsAppSim,
    sms_gateway: SmsStore,
    mailbox: Mailbox,
    owner_engine: AsyncEngine,
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    await _with_phone(client, mona, channels=["sms"])
    booking_id = await _booked(client, shop, mona)
    await run_jobs()
    assert [m["channel"] for m in await _messages(owner_engine, booking_id)] == ["sms"]
    assert whatsapp_cloud.messages(to=PHONE) == []
    assert any(m.text.startswith("Booked:") for m in sms_gateway.newest_first(PHONE))


async def test_a_customer_who_opted_out_of_every_channel_is_sent_nothing(
    client: httpx.AsyncClient, run_jobs: JobRunner, owner_engine: AsyncEngine
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    sami = await customer(client)
    assert (await client.patch("/v1/me", json={"channels": []}, headers=sami.headers)).json()[
        "channels"
    ] == []
    booking_id = await _booked(client, shop, sami)
    await run_jobs()
    assert await _messages(owner_engine, booking_id) == []


async def test_a_forged_status_webhook_is_refused_and_nothing_kept(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    body = json.dumps({"object": "whatsapp_business_account", "entry": []}).encode()
    for signature in (None, "sha256=" + "0" * 64, "garbage"):
        headers = {"X-Hub-Signature-256": signature} if signature else {}
        refused = await client.post("/v1/webhooks/whatsapp", content=body, headers=headers)
        assert (refused.status_code, refused.json()["code"]) == (401, "webhook_rejected")


async def test_whatsapp_subscription_handshake(client: httpx.AsyncClient, settings: Settings) -> None:
    token = settings.whatsapp_verify_token.get_secret_value()
    query = {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158201444"}
    answered = await client.get("/v1/webhooks/whatsapp", params=query)
    assert (answered.status_code, answered.text) == (200, "1158201444")
    wrong = await client.get("/v1/webhooks/whatsapp", params={**query, "hub.verify_token": "guess"})
    assert wrong.status_code == 403


async def test_sms_delivery_reports_are_verified_and_an_undelivered_text_goes_on_by_email(
    client: httpx.AsyncClient,
    run_jobs: JobRunner,
    sms_gateway: SmsStore,
    mailbox: Mailbox,
    owner_engine: AsyncEngine,
    settings: Settings,
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    await _with_phone(client, mona, channels=["sms", "email"])
    booking_id = await _booked(client, shop, mona)
    await run_jobs()
    (message,) = await _messages(owner_engine, booking_id)
    link = report_link(cequens_config(settings), f"{shop.business_id}:{message['id']}")
    assert link is not None
    path = link.removeprefix(settings.public_base_url.rstrip("/"))
    report = {"messageId": message["provider_message_id"], "status": 2, "recipient": PHONE[1:]}
    forged = await client.post(path.replace("sig=", "sig=0"), json=report)
    assert (forged.status_code, forged.json()["code"]) == (401, "webhook_rejected")
    assert (await client.post(path, json=report)).json() == {"applied": 1}
    assert (await client.post(path, json=report)).json() == {"applied": 0}
    await run_jobs()
    found = await _messages(owner_engine, booking_id)
    assert [(m["channel"], m["delivery_status"]) for m in found] == [("sms", "undelivered"), ("email", None)]
    assert any("Booked" in str(m["Subject"]) for m in mailbox.messages(to=mona.email))


@given(
    st.lists(st.sampled_from(["sent", "delivered", "read", "failed", "undelivered"]), min_size=1, max_size=8)
)
def test_a_delivery_status_moves_forward_only_whatever_order_reports_come_in(reports: list[Status]) -> None:
    status: str | None = None
    for report in reports:
        status = advanced(status, report)
    failures = [r for r in reports if r in ("failed", "undelivered")]
    if failures:
        assert status == failures[0]  # the first failure is the last word
    else:
        assert status == max(reports, key=["sent", "delivered", "read"].index)


async def test_a_deployment_without_whatsapp_takes_no_status_webhook(
    settings: Settings, db: Database, owner_engine: AsyncEngine
) -> None:
    """Its app secret is then unset or the simulator's, known to anyone: a webhook signed
    with it must change nothing (before: it was taken and kept)."""
    secret = settings.whatsapp_app_secret.get_secret_value()
    body = json.dumps({"object": "whatsapp_business_account", "entry": []}).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    email_only = create_app(settings.model_copy(update={"message_channels": ["email"]}), db)
    transport = httpx.ASGITransport(app=email_only)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        refused = await http.post(
            "/v1/webhooks/whatsapp", content=body, headers={"X-Hub-Signature-256": signature}
        )
        assert (refused.status_code, refused.json()["code"]) == (401, "webhook_rejected")
        query = {
            "hub.mode": "subscribe",
            "hub.verify_token": settings.whatsapp_verify_token.get_secret_value(),
        }
        handshake = await http.get("/v1/webhooks/whatsapp", params={**query, "hub.challenge": "42"})
        assert handshake.status_code == 403
    assert (
        whatsapp.verify_signature("", body, "sha256=" + hmac.new(b"", body, hashlib.sha256).hexdigest())
        is False
    )


async def test_a_failure_reported_before_the_send_is_recorded_still_hands_the_message_on(
    client: httpx.AsyncClient,
    run_jobs: JobRunner,
    whatsapp_cloud: WhatsAppSim,
    sms_gateway: SmsStore,
    owner_engine: AsyncEngine,
    db: Database,
    settings: Settings,
    clock: Any,
) -> None:
    """Meta's `failed` status can overtake the sender's own record of the send (before: the
    report was kept against a pending message and nothing fell back)."""
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    await _with_phone(client, mona)
    whatsapp_cloud.set_faults({"unreachable": [PHONE]})
    booking_id = await _booked(client, shop, mona)
    (message,) = await _messages(owner_engine, booking_id)
    real = whatsapp.sender(whatsapp_config(settings))

    async def send_then_report(outgoing: Outgoing) -> str:
        provider_id = await real(outgoing)
        for _ in range(100):  # the simulator posts its webhooks just after answering
            failed = [c for c in whatsapp_cloud.callbacks() if b'"failed"' in c.body]
            if failed:
                break
            await asyncio.sleep(0.02)
        for callback in failed:
            await client.post("/v1/webhooks/whatsapp", content=callback.body, headers=dict(callback.headers))
        return provider_id

    business_id = uuid.UUID(str(shop.business_id))
    senders = {Channel.WHATSAPP: send_then_report}
    assert await delivery.deliver(db, senders, message["id"], business_id, now=clock.now()) == "sent"
    await run_jobs()
    found = await _messages(owner_engine, booking_id)
    assert [(m["channel"], m["status"], m["delivery_status"]) for m in found] == [
        ("whatsapp", "sent", "failed"),
        ("sms", "sent", None),
    ]
