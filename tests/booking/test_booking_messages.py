"""A booking's customer is told: confirmed, moved, cancelled, and reminded the day before
and two hours before (quiet hours kept), over real SMTP, each once; reminders move with a
reschedule and die with a cancellation. A business's messages are its tenant's alone."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from booking_support import BookableShop, book, customer, open_bookable_shop
from booklnk.db.database import Database
from booklnk.db.jobs import Job, enqueue
from booklnk.notifications.models import OutboxMessage
from class_support import open_gym, publish, take_seat
from mail_server import Mailbox
from support import Account, JobRunner

THURSDAY_10 = "2026-11-26T10:00:00+02:00"  # the suite's clock: Tuesday 2026-11-24 11:00 Cairo
FRIDAY_12 = "2026-11-27T12:00:00+02:00"


async def _templates(owner_engine: AsyncEngine, booking_id: str) -> list[str]:
    async with owner_engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT template FROM outbox_message WHERE booking_id = :b ORDER BY seq"), {"b": booking_id}
        )
        return list(rows.scalars())


async def _reminder_jobs(owner_engine: AsyncEngine) -> list[tuple[datetime, str]]:
    async with owner_engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT scheduled_at, args->>'starts_at' FROM procrastinate_jobs"
                " WHERE task_name = 'booking.send_reminder' ORDER BY scheduled_at"
            )
        )
        return [(at.astimezone(UTC), starts) for at, starts in rows]


def _about_bookings(mailbox: Mailbox, who: Account) -> list[EmailMessage]:
    """What reached `who`, less the code they signed up with."""
    return [m for m in mailbox.messages(to=who.email) if not re.search(r"\b\d{6}\b", str(m["Subject"]))]


def _subjects(mailbox: Mailbox, who: Account) -> list[str]:
    return [str(m["Subject"]) for m in _about_bookings(mailbox, who)]


async def _booked(client: httpx.AsyncClient, shop: BookableShop, who: Account, starts_at: str) -> str:
    response = await book(client, shop, who, starts_at)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "confirmed"
    return str(response.json()["id"])


async def test_a_confirmed_booking_is_told_at_once_and_reminded_twice(
    client: httpx.AsyncClient, run_jobs: JobRunner, mailbox: Mailbox, owner_engine: AsyncEngine, db: Database
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    booking_id = await _booked(client, shop, mona, THURSDAY_10)
    assert await _templates(owner_engine, booking_id) == ["booking_confirmed"]
    # The day before at 10:00 Cairo; two hours before is 08:00, inside quiet hours
    # (22:00-09:00), so at 09:00.
    assert [at for at, _ in await _reminder_jobs(owner_engine)] == [
        datetime(2026, 11, 25, 8, 0, tzinfo=UTC),
        datetime(2026, 11, 26, 7, 0, tzinfo=UTC),
    ]
    await run_jobs()
    assert await _templates(owner_engine, booking_id) == [
        "booking_confirmed",
        "booking_reminder",
        "booking_reminder",
    ]
    subjects = _subjects(mailbox, mona)
    assert [s.split(":")[0] for s in subjects] == ["Booked", "Reminder", "Reminder"]
    assert subjects[0].startswith("Booked: Cut at ")
    # The business's local time, written by Babel (its space before AM is U+202F).
    assert all("Thursday, November 26, 2026 10:00" in s and s.endswith("AM") for s in subjects)
    # A reminder's job run again (a retry, a duplicate) records nothing new.
    starts_at = datetime.fromisoformat(THURSDAY_10).astimezone(UTC).isoformat()
    async with db.transaction() as session:
        args = {
            "business_id": str(shop.business_id),
            "booking_id": booking_id,
            "minutes_before": 1440,
            "starts_at": starts_at,
        }
        await enqueue(session, Job("booking.send_reminder", args))
    await run_jobs()
    assert len(await _templates(owner_engine, booking_id)) == 3
    assert len(_subjects(mailbox, mona)) == 3


async def test_reminders_move_with_a_reschedule(
    client: httpx.AsyncClient, run_jobs: JobRunner, mailbox: Mailbox, owner_engine: AsyncEngine
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    booking_id = await _booked(client, shop, mona, THURSDAY_10)
    moved = await client.post(
        f"{shop.url}/bookings/{booking_id}/reschedule", headers=mona.headers, json={"starts_at": FRIDAY_12}
    )
    assert moved.status_code == 200, moved.text
    await run_jobs()
    assert await _templates(owner_engine, booking_id) == [
        "booking_confirmed",
        "booking_rescheduled",
        "booking_reminder",
        "booking_reminder",
    ]
    reminders = [s for s in _subjects(mailbox, mona) if s.startswith("Reminder")]
    assert len(reminders) == 2
    assert all("November 27" in s for s in reminders)


async def test_reminders_die_with_a_cancellation(
    client: httpx.AsyncClient, run_jobs: JobRunner, mailbox: Mailbox, owner_engine: AsyncEngine
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    booking_id = await _booked(client, shop, mona, THURSDAY_10)
    cancelled = await client.post(f"{shop.url}/bookings/{booking_id}/cancel", headers=mona.headers)
    assert cancelled.status_code == 200, cancelled.text
    await run_jobs()
    assert await _templates(owner_engine, booking_id) == ["booking_confirmed", "booking_cancelled"]
    assert [s.split(":")[0] for s in _subjects(mailbox, mona)] == ["Booked", "Cancelled"]


def _calendar(message: EmailMessage) -> dict[str, str]:
    """The booking.ics attached, as its VEVENT's properties."""
    (part,) = [p for p in message.iter_attachments() if p.get_filename() == "booking.ics"]
    assert part.get_content_type() == "text/calendar"
    text = part.get_content()
    text = text.decode() if isinstance(text, bytes) else text
    assert text.endswith("END:VCALENDAR\r\n")
    event = text.split("BEGIN:VEVENT\r\n")[1].split("END:VEVENT")[0].replace("\r\n ", "")
    return dict(line.split(":", 1) for line in event.split("\r\n") if line)


async def test_a_bookings_emails_carry_its_calendar_entry_updated_by_each_change(
    client: httpx.AsyncClient, run_jobs: JobRunner, mailbox: Mailbox
) -> None:
    """One UID (the calendar feed's) across confirmation, move and cancellation, its
    SEQUENCE growing: a calendar that imported the first updates the same entry."""
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    booking_id = await _booked(client, shop, mona, THURSDAY_10)
    await client.post(
        f"{shop.url}/bookings/{booking_id}/reschedule", headers=mona.headers, json={"starts_at": FRIDAY_12}
    )
    await client.post(f"{shop.url}/bookings/{booking_id}/cancel", headers=mona.headers)
    await run_jobs()
    by_subject = {str(m["Subject"]).split(":")[0]: _calendar(m) for m in _about_bookings(mailbox, mona)}
    booked, moved, cancelled = by_subject["Booked"], by_subject["Moved"], by_subject["Cancelled"]
    assert booked["UID"] == moved["UID"] == cancelled["UID"] == f"{booking_id}@booklnk"
    assert (booked["DTSTART"], moved["DTSTART"]) == ("20261126T080000Z", "20261127T100000Z")
    assert int(booked["SEQUENCE"]) < int(moved["SEQUENCE"]) < int(cancelled["SEQUENCE"])
    assert (booked["STATUS"], cancelled["STATUS"]) == ("CONFIRMED", "CANCELLED")


async def test_messages_are_written_in_the_customers_language(
    client: httpx.AsyncClient, run_jobs: JobRunner, mailbox: Mailbox
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    nour = await customer(client)
    assert (await client.patch("/v1/me", headers=nour.headers, json={"language": "ar"})).status_code == 200
    await _booked(client, shop, nour, THURSDAY_10)
    await run_jobs()
    confirmed, *reminders = _about_bookings(mailbox, nour)
    assert len(reminders) == 2
    assert str(confirmed["Subject"]).startswith("تم الحجز")
    assert "الخميس" in str(confirmed["Subject"])
    assert confirmed["Content-Language"] == "ar"


async def test_a_businesss_messages_are_its_tenants_alone(client: httpx.AsyncClient, db: Database) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    await _booked(client, shop, mona, THURSDAY_10)
    count = select(func.count()).select_from(OutboxMessage)
    async with db.transaction(tenant_id=shop.business_id) as session:
        assert (await session.execute(count.where(OutboxMessage.booking_id.is_not(None)))).scalar_one() == 1
        assert (await session.execute(count.where(OutboxMessage.business_id.is_(None)))).scalar_one() == 0
    async with db.transaction(tenant_id=uuid.uuid4()) as session:
        assert (await session.execute(count)).scalar_one() == 0
    async with db.transaction() as session:  # outside every tenant: the accounts' codes only
        assert (await session.execute(count.where(OutboxMessage.business_id.is_not(None)))).scalar_one() == 0


async def test_staff_see_what_each_booking_was_sent(
    client: httpx.AsyncClient, run_jobs: JobRunner, mailbox: Mailbox
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    mona = await customer(client)
    booking_id = await _booked(client, shop, mona, THURSDAY_10)
    url = f"{shop.url}/bookings/{booking_id}/messages"
    mailbox.answer = "451 4.3.0 Try again later"  # the provider is down for the first attempts
    before = await client.get(url, headers=shop.owner.headers)
    assert before.status_code == 200, before.text
    [pending] = before.json()["items"]
    assert (pending["template"], pending["status"], pending["address"]) == (
        "booking_confirmed",
        "pending",
        mona.email,
    )
    assert (await client.get(url, headers=mona.headers)).status_code == 403  # staff only
    unknown = await client.get(f"{shop.url}/bookings/{uuid.uuid4()}/messages", headers=shop.owner.headers)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "booking_not_found")
    mailbox.answer = None
    await run_jobs()
    after = (await client.get(url, headers=shop.owner.headers)).json()["items"]
    assert [(m["template"], m["status"]) for m in after] == [
        ("booking_confirmed", "sent"),
        ("booking_reminder", "sent"),
        ("booking_reminder", "sent"),
    ]
    assert [a["outcome"] for a in after[0]["attempts"]] == ["sent"]


async def test_a_class_seat_is_told_and_its_reminder_follows_the_session(
    client: httpx.AsyncClient, run_jobs: JobRunner, mailbox: Mailbox, owner_engine: AsyncEngine
) -> None:
    """A seat booked confirmed is told and reminded (a gym: two hours before only); when
    the owner moves the session, its seats are told and the reminder goes before the new
    time. (Before: a class seat got no message, and a moved session's reminders none.)"""
    gym = await open_gym(client, pay_at_venue=True)
    session_id = (await publish(client, gym))["sessions"][1]["id"]  # Thursday 18:00-19:00 Cairo
    mona = await customer(client)
    seat = await take_seat(client, gym, session_id, mona)
    assert seat.status_code == 201, seat.text
    assert seat.json()["status"] == "confirmed"
    moved = await client.patch(
        f"{gym.base}/class-sessions/{session_id}",
        headers=gym.owner.headers,
        json={"starts_at": "2026-11-26T19:00:00+02:00"},
    )
    assert moved.status_code == 200, moved.text
    assert [at for at, _ in await _reminder_jobs(owner_engine)] == [
        datetime(2026, 11, 26, 14, 0, tzinfo=UTC),  # 16:00 Cairo, for 18:00 (now stale)
        datetime(2026, 11, 26, 15, 0, tzinfo=UTC),  # 17:00 Cairo, for 19:00
    ]
    await run_jobs()
    assert [s.split(":")[0] for s in _subjects(mailbox, mona)] == ["Booked", "Moved", "Reminder"]
    assert "7:00" in _subjects(mailbox, mona)[2]
