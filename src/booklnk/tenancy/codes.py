"""One-time codes and the notices about accounts, shared by every way of proving an
address (`accounts` for e-mail and a signed-in account's number, `phone_sign_up` for an
account made by a number): issued under per-address limits, stored as an HMAC, taken
under a wrong-guess throttle, sent through the outbox."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.config import Settings
from booklnk.notifications import outbox
from booklnk.notifications.models import Channel
from booklnk.notifications.outbox import Message
from booklnk.notifications.recipients import Route
from booklnk.tenancy import credentials, repository, throttle
from booklnk.tenancy.models import CodePurpose, OneTimeCode, User

CODE_TTL = timedelta(minutes=15)
# Wrong guesses one code takes before it dies (a new one must be asked for).
CODE_ATTEMPTS = 5
# Codes one address can be sent per purpose and hour: anyone can ask, so the outbox must
# not become a way to flood someone's mailbox. (The notice to a taken address goes at most
# hourly on its own.)
CODES_PER_HOUR = 5
# Codes an account may have sent to numbers in a day, whatever the numbers: each is an
# SMS or a WhatsApp message someone pays for, and five an hour per number alone would let
# one account text a thousand strangers.
PHONE_CODES_PER_DAY = 10
# Codes one number is sent in a day by the requests anyone can make (signing up, signing
# in), whatever their purposes: the hourly limit alone would let a stranger text a number
# (and bill us) 120 times a day, and nobody needs more than a few codes a day.
CODES_PER_NUMBER_PER_DAY = 10
# Across all its codes, an address's wrong guesses (per purpose): 10 are free, then each
# further guess waits 1, 2, 4 … seconds up to a day after the last, and they are forgotten
# a day after the last; the right code clears them. Without this, asking for new codes
# would give a guesser 25 tries an hour for ever.
GUESSES = throttle.Policy(free_failures=10, max_delay_seconds=86_400, forget_after_seconds=86_400)
# How long a notice (no code in it) is worth sending through an outage.
NOTICE_TTL = timedelta(days=1)

PhoneChannel = Literal["sms", "whatsapp"]


async def issue_code(
    session: AsyncSession,
    settings: Settings,
    purpose: CodePurpose,
    address: str,
    language: str,
    user_id: uuid.UUID | None,
    *,
    now: datetime,
    per_day: int | None = None,
) -> str | None:
    """A new code for the address (voiding its older ones), stored as its HMAC; the code,
    or None when the address had CODES_PER_HOUR already, or `per_day` codes of any purpose
    in a day (silently: the caller's answer must not differ)."""
    await repository.lock_codes_of(session, address, purpose)
    sent = await repository.count_codes_since(session, address, purpose, now - timedelta(hours=1))
    if sent >= CODES_PER_HOUR:
        return None
    if (
        per_day is not None
        and await repository.count_address_codes_since(session, address, now - timedelta(days=1)) >= per_day
    ):
        return None
    await repository.void_codes(session, address, purpose, now)
    code, code_id = credentials.new_code(), uuid.uuid4()
    session.add(
        OneTimeCode(
            id=code_id,
            purpose=purpose,
            address=address,
            user_id=user_id,
            code_hash=credentials.hash_code(_code_key(settings), code_id, code),
            language=language,
            attempts=0,
            created_at=now,
            expires_at=now + CODE_TTL,
        )
    )
    await session.flush()
    return code


async def send_code(
    session: AsyncSession,
    purpose: CodePurpose,
    ways: Sequence[Route],
    language: str,
    code: str,
    *,
    user: User | None = None,
    template: str | None = None,
    now: datetime,
) -> None:
    """The code by the first of `ways`, falling back on the others; in `template`, else
    the purpose's own."""
    params: dict[str, object] = {"code": code, "minutes": int(CODE_TTL.total_seconds() // 60)}
    if user is not None:
        params["name"] = user.full_name
    message = Message.by(
        ways,
        template=template or f"{purpose.value}_code",
        language=language,
        params=params,
        user_id=user.id if user else None,
        expires_at=now + CODE_TTL,
    )
    await outbox.record(session, message, now=now)


async def take_code(
    session: AsyncSession, settings: Settings, purpose: CodePurpose, address: str, code: str, now: datetime
) -> OneTimeCode | None:
    """The address's live code if `code` is it (then used up, and the address's wrong
    guesses forgiven); None otherwise, the guess counted against the code and the address
    (committed with the caller's transaction). The same steps whether or not the address
    has a live code, or an account."""
    key = f"code:{purpose.value}:{address.lower()}"
    records = await repository.lock_login_throttles(session, [key], now)
    if throttle.wait_seconds(records[key], now, GUESSES) > 0:
        return None
    live = await repository.lock_live_code(session, address, purpose, now)
    digest = credentials.hash_code(_code_key(settings), live.id if live else uuid.uuid4(), code)
    if live is None or live.attempts >= CODE_ATTEMPTS or not credentials.same_digest(digest, live.code_hash):
        if live is not None:
            live.attempts += 1
        await repository.save_login_throttles(session, {key: throttle.reserve(records[key], now, GUESSES)})
        return None
    live.used_at = now
    await repository.save_login_throttles(session, {key: throttle.Record(0, now, now)})
    await session.flush()
    return live


def by_email(email: str) -> Route:
    return Route(Channel.EMAIL, email)


def by_phone(phone: str, channel: PhoneChannel) -> list[Route]:
    # A number not on WhatsApp (or a deployment without it) still gets its code by SMS.
    if channel == "whatsapp":
        return [Route(Channel.WHATSAPP, phone), Route(Channel.SMS, phone)]
    return [Route(Channel.SMS, phone)]


def _code_key(settings: Settings) -> str:
    # A key of its own, derived from the server's secret: a code's HMAC never shares a key
    # with the access tokens' signatures.
    return hashlib.sha256(
        b"booklnk one-time codes|" + settings.jwt_secret.get_secret_value().encode()
    ).hexdigest()


async def notify(
    session: AsyncSession,
    user: User,
    template: str,
    *,
    params: dict[str, object] | None = None,
    now: datetime,
    once_per_hour: bool = False,
) -> None:
    """A notice about the account to its e-mail address. None for an account made by a
    number alone: the notices about an account (a password changed, a number moved) are
    written for a mailbox, and the number is the way into such an account, so a text to
    it would tell nothing its holder does not know."""
    if user.email is None:
        return
    # A notice anyone can trigger (registering a taken address) goes at most hourly.
    dedupe = f"{template}:{user.id}:{now:%Y-%m-%dT%H}" if once_per_hour else None
    await notify_address(
        session,
        user.email,
        user.language,
        template,
        params={"name": user.full_name, **(params or {})},
        user_id=user.id,
        dedupe_key=dedupe,
        now=now,
    )


async def notify_address(
    session: AsyncSession,
    email: str,
    language: str,
    template: str,
    *,
    params: dict[str, object] | None = None,
    user_id: uuid.UUID | None = None,
    dedupe_key: str | None = None,
    now: datetime,
) -> None:
    """A notice (no code in it) to an address, worth sending for NOTICE_TTL."""
    message = Message(
        address=email,
        template=template,
        language=language,
        params=params or {},
        user_id=user_id,
        expires_at=now + NOTICE_TTL,
        dedupe_key=dedupe_key,
    )
    await outbox.record(session, message, now=now)
