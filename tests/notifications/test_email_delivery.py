"""The outbox delivered by the real worker to a real SMTP server (tests/mail_server.py):
once, in the recipient's language, through a provider's outage, never after expiry."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.bootstrap import smtp_config
from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.notifications import delivery, email
from booklnk.notifications.channel import Unavailable
from booklnk.notifications.models import Channel
from booklnk.notifications.outbox import enqueue_delivery
from mail_server import Mailbox, free_port
from support import FakeClock, JobRunner

EMAIL = "nour@example.com"


async def _register(client: httpx.AsyncClient, language: str = "en") -> None:
    body = {"email": EMAIL, "language": language}
    assert (await client.post("/v1/auth/register", json=body)).status_code == 202


async def _message(owner_engine: AsyncEngine) -> tuple[uuid.UUID, str, dict[str, object], int]:
    async with owner_engine.connect() as conn:
        row = (await conn.execute(text("SELECT id, status, params, attempts FROM outbox_message"))).one()
    return row.id, row.status, row.params, row.attempts


async def _attempts(owner_engine: AsyncEngine) -> list[str]:
    async with owner_engine.connect() as conn:
        rows = await conn.execute(text("SELECT outcome FROM message_attempt ORDER BY number"))
        return [r.outcome for r in rows]


async def test_the_code_arrives_by_smtp_as_text_and_html(
    client: httpx.AsyncClient, run_jobs: JobRunner, mailbox: Mailbox, owner_engine: AsyncEngine
) -> None:
    await _register(client)
    message_id, _, params, _ = await _message(owner_engine)
    code = str(params["code"])
    await run_jobs()
    [received] = mailbox.messages(to=EMAIL)
    assert received["Subject"] == f"{code} is your Booklnk code"
    assert received["Message-ID"] == f"<{message_id}@booklnk.localhost>"
    assert received["Content-Language"] == "en"
    assert received.get_content_type() == "multipart/alternative"
    text_part, html_part = received.iter_parts()
    assert code in text_part.get_content()
    assert code in html_part.get_content()
    assert html_part.get_content_type() == "text/html"
    # Sent: the code leaves the database; the attempt stays on record.
    _, status, params, attempts = await _message(owner_engine)
    assert (status, "code" in params, attempts) == ("sent", False, 1)
    assert await _attempts(owner_engine) == ["sent"]


async def test_arabic_mail_is_right_to_left(
    client: httpx.AsyncClient, run_jobs: JobRunner, mailbox: Mailbox
) -> None:
    await _register(client, language="ar")
    await run_jobs()
    [received] = mailbox.messages(to=EMAIL)
    assert received["Content-Language"] == "ar"
    assert received["Subject"].startswith("رمز")
    html = received.get_body(preferencelist=("html",))
    assert html is not None
    assert '<html lang="ar" dir="rtl">' in html.get_content()


async def test_a_job_run_twice_sends_once(
    client: httpx.AsyncClient, run_jobs: JobRunner, mailbox: Mailbox, db: Database, owner_engine: AsyncEngine
) -> None:
    await _register(client)
    message_id, *_ = await _message(owner_engine)
    await run_jobs()
    async with db.transaction() as session:
        await enqueue_delivery(session, message_id, None)  # as a rerun or a sweep would
    await run_jobs()
    assert len(mailbox.messages(to=EMAIL)) == 1
    assert await _attempts(owner_engine) == ["sent"]


async def test_an_outage_delays_a_message_and_loses_nothing(
    client: httpx.AsyncClient,
    mailbox: Mailbox,
    db: Database,
    settings: Settings,
    clock: FakeClock,
    owner_engine: AsyncEngine,
) -> None:
    """The server answers 451 (try later), then is gone altogether, then comes back: each
    failed attempt is recorded and retried; the message arrives once."""
    await _register(client)
    message_id, *_ = await _message(owner_engine)
    send = {Channel.EMAIL: email.sender(smtp_config(settings))}
    mailbox.answer = "451 4.3.0 Try again later"
    with pytest.raises(Unavailable):
        await delivery.deliver(db, send, message_id, None, now=clock.now())
    gone = {Channel.EMAIL: email.sender(smtp_config(settings.model_copy(update={"smtp_port": free_port()})))}
    with pytest.raises(Unavailable):
        await delivery.deliver(db, gone, message_id, None, now=clock.now())
    assert mailbox.messages() == []
    mailbox.answer = None
    assert await delivery.deliver(db, send, message_id, None, now=clock.now()) == "sent"
    assert len(mailbox.messages(to=EMAIL)) == 1
    assert await _attempts(owner_engine) == ["failed", "failed", "sent"]


async def test_a_refused_address_fails_for_good(
    client: httpx.AsyncClient,
    mailbox: Mailbox,
    db: Database,
    settings: Settings,
    clock: FakeClock,
    owner_engine: AsyncEngine,
) -> None:
    await _register(client)
    message_id, *_ = await _message(owner_engine)
    mailbox.answer = "550 5.1.1 No such mailbox"
    send = {Channel.EMAIL: email.sender(smtp_config(settings))}
    assert await delivery.deliver(db, send, message_id, None, now=clock.now()) == "failed"
    _, status, params, _ = await _message(owner_engine)
    assert (status, "code" in params) == ("failed", False)
    assert await delivery.deliver(db, send, message_id, None, now=clock.now()) == "already"
    assert await _attempts(owner_engine) == ["refused"]


async def test_a_code_past_its_expiry_is_never_sent(
    client: httpx.AsyncClient,
    mailbox: Mailbox,
    db: Database,
    settings: Settings,
    clock: FakeClock,
    owner_engine: AsyncEngine,
) -> None:
    await _register(client)
    message_id, *_ = await _message(owner_engine)
    later = clock.now() + timedelta(minutes=15)
    assert (
        await delivery.deliver(
            db, {Channel.EMAIL: email.sender(smtp_config(settings))}, message_id, None, now=later
        )
        == "expired"
    )
    _, status, params, attempts = await _message(owner_engine)
    assert (status, "code" in params, attempts) == ("expired", False, 0)
    assert mailbox.messages() == []


async def test_a_message_whose_job_is_gone_is_queued_again(
    client: httpx.AsyncClient, db: Database, clock: FakeClock, owner_engine: AsyncEngine
) -> None:
    await _register(client)
    message_id, *_ = await _message(owner_engine)
    async with owner_engine.begin() as conn:  # its job ran out of retries through an outage
        await conn.execute(text("UPDATE procrastinate_jobs SET status = 'failed'"))
    async with db.transaction() as session:
        assert await delivery.requeue_orphaned(session, now=clock.now()) == 0  # too fresh to tell
        assert await delivery.requeue_orphaned(session, now=clock.now() + timedelta(minutes=6)) == 1
        assert await delivery.requeue_orphaned(session, now=clock.now() + timedelta(minutes=6)) == 0
    async with owner_engine.connect() as conn:
        live = await conn.execute(
            text("SELECT args->>'message_id' FROM procrastinate_jobs WHERE status = 'todo'")
        )
        assert live.scalars().all() == [str(message_id)]
