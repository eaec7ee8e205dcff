"""Accounts proven by e-mail: registration by a one-time code, password reset, password
change, signing out everywhere, the profile.

Nothing here tells a caller whether an address has an account, by the answer or by the
steps taken: a code is issued for every request. Registering an address that has an
account sends its owner a notice instead of the code; asking to reset the password of an
address without one sends a note that there is none. The account is made only when its
code comes back, with its password and name, so only whoever reads the mailbox makes it.

Using a code owns its transaction (as login does): a wrong guess must be counted even
though the request fails."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.kernel.errors import TooManyRequests, ValidationFailed
from booklnk.notifications import outbox
from booklnk.notifications.models import Channel
from booklnk.notifications.outbox import Message
from booklnk.notifications.recipients import Route
from booklnk.tenancy import credentials, repository, throttle
from booklnk.tenancy.auth import TokenPair, issue_tokens
from booklnk.tenancy.context import Actor
from booklnk.tenancy.credentials import Passwords
from booklnk.tenancy.errors import InvalidCode, InvalidToken, WrongPassword
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
# Across all its codes, an address's wrong guesses (per purpose): 10 are free, then each
# further guess waits 1, 2, 4 … seconds up to a day after the last, and they are forgotten
# a day after the last; the right code clears them. Without this, asking for new codes
# would give a guesser 25 tries an hour for ever.
GUESSES = throttle.Policy(free_failures=10, max_delay_seconds=86_400, forget_after_seconds=86_400)
# How long a notice (no code in it) is worth sending through an outage.
NOTICE_TTL = timedelta(days=1)


async def request_registration(
    session: AsyncSession, settings: Settings, *, email: str, language: str, now: datetime
) -> None:
    """Either way a code is issued, so both cases take the same steps; only an address
    without an account is sent it (one with an account gets a notice instead)."""
    user = await repository.get_user_by_email(session, email)
    owner = user.id if user else None
    code = await _issue_code(session, settings, CodePurpose.REGISTRATION, email, language, owner, now=now)
    if code is None:
        return
    if user is not None:
        await _notify(session, user, "account_exists", now=now, once_per_hour=True)
    else:
        await _send_code(session, CodePurpose.REGISTRATION, [_by_email(email)], language, code, now=now)


async def verify_registration(
    db: Database,
    settings: Settings,
    passwords: Passwords,
    *,
    email: str,
    code: str,
    password: str,
    full_name: str,
    now: datetime,
) -> TokenPair:
    """The code sent at registration, with the account's password and name (given here,
    by whoever reads the mailbox, never by whoever asked for the code): the account is made
    and signed in."""
    password_hash = await passwords.hash(password)
    async with db.transaction() as session:
        taken = await _take_code(session, settings, CodePurpose.REGISTRATION, email, code, now)
        # A code issued to an address that had an account (never sent) makes nothing.
        if taken is not None and taken.user_id is None and not await repository.email_exists(session, email):
            user = User(
                id=uuid.uuid4(),
                email=taken.address,
                full_name=full_name,
                password_hash=password_hash,
                language=taken.language,
                is_platform_admin=False,
            )
            session.add(user)
            try:
                await session.flush()
            except IntegrityError:  # made meanwhile (by an admin: registrations queue on the code)
                raise InvalidCode("The code is wrong or no longer valid; ask for a new one.") from None
            return await issue_tokens(session, settings, user, family_id=uuid.uuid4(), now=now)
    raise InvalidCode("The code is wrong or no longer valid; ask for a new one.")


async def request_password_reset(
    session: AsyncSession, settings: Settings, *, email: str, language: str, now: datetime
) -> None:
    """Either way a code is issued and a message recorded (the same steps): the code to an
    account's address, a note that there is no account to one without (in the language
    the request asks for)."""
    user = await repository.get_user_by_email(session, email)
    if user is not None:
        email, language = user.email, user.language
    owner = user.id if user else None
    code = await _issue_code(session, settings, CodePurpose.PASSWORD_RESET, email, language, owner, now=now)
    if code is None:
        return
    if user is not None:
        await _send_code(
            session, CodePurpose.PASSWORD_RESET, [_by_email(email)], language, code, user=user, now=now
        )
    else:
        await _notify_address(session, email, language, "password_reset_no_account", now=now)


async def reset_password(
    db: Database,
    settings: Settings,
    passwords: Passwords,
    *,
    email: str,
    code: str,
    password: str,
    now: datetime,
) -> None:
    """The code sent for a reset: the new password replaces the old, every session ends,
    and the address is told."""
    password_hash = await passwords.hash(password)
    async with db.transaction() as session:
        taken = await _take_code(session, settings, CodePurpose.PASSWORD_RESET, email, code, now)
        user = await repository.get_user(session, taken.user_id) if taken and taken.user_id else None
        if user is not None:
            await _replace_password(session, user, password_hash, now=now)
            return
    raise InvalidCode("The code is wrong or no longer valid; ask for a new one.")


PhoneChannel = Literal["sms", "whatsapp"]


async def request_phone_code(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    *,
    phone: str,
    channel: PhoneChannel,
    now: datetime,
) -> None:
    """A code to `phone` (E.164) by `channel` (WhatsApp falls back on SMS), to prove the
    number is the signed-in account's. Silent past CODES_PER_HOUR, as every code is; past
    PHONE_CODES_PER_DAY for the account, 429 (the account knows its own count)."""
    user = await _user(session, actor)
    await repository.lock_codes_of(session, f"account:{user.id}", CodePurpose.PHONE_VERIFICATION)
    sent = await repository.count_user_codes_since(
        session, user.id, CodePurpose.PHONE_VERIFICATION, now - timedelta(days=1)
    )
    if sent >= PHONE_CODES_PER_DAY:
        raise TooManyRequests(
            f"At most {PHONE_CODES_PER_DAY} codes a day go to phones for one account; try tomorrow.",
            retry_after_seconds=3600,
        )
    code = await _issue_code(
        session, settings, CodePurpose.PHONE_VERIFICATION, phone, user.language, user.id, now=now
    )
    if code is not None:
        await _send_code(
            session,
            CodePurpose.PHONE_VERIFICATION,
            _by_phone(phone, channel),
            user.language,
            code,
            user=user,
            now=now,
        )


async def verify_phone(
    db: Database, settings: Settings, actor: Actor, *, phone: str, code: str, now: datetime
) -> User:
    """The code sent to `phone` came back: the number is the account's. A number proven
    by another account before leaves that account, whose owner is told by e-mail: numbers
    change hands (Egyptian operators recycle them), and the newest proof is the one that
    holds."""
    async with db.transaction() as session:
        taken = await _take_code(session, settings, CodePurpose.PHONE_VERIFICATION, phone, code, now)
        if taken is not None and taken.user_id == actor.user_id:
            user = await _user(session, actor)
            previous = await repository.get_user_by_phone(session, phone)
            if previous is not None and previous.id != user.id:
                previous.phone = None
                await session.flush()  # (before the unique number moves)
                await _notify(session, previous, "phone_removed", params={"phone": phone}, now=now)
            user.phone = phone
            await session.flush()
            return user
    raise InvalidCode("The code is wrong or no longer valid; ask for a new one.")


async def remove_phone(session: AsyncSession, actor: Actor) -> User:
    user = await _user(session, actor)
    user.phone = None
    await session.flush()
    return user


async def request_sign_in_code(
    session: AsyncSession,
    settings: Settings,
    *,
    email: str | None,
    phone: str | None,
    channel: Channel | None,
    now: datetime,
) -> None:
    """A code to sign in without the password, to an account's e-mail or proven number.
    The same steps either way (a code is issued for any address); an address without an
    account is sent nothing: a stranger's phone must not get texts, nor cost an SMS."""
    address = email if email is not None else phone
    assert address is not None  # (the schema asks for one of them)
    user = await (
        repository.get_user_by_email(session, address)
        if email is not None
        else repository.get_user_by_phone(session, address)
    )
    language = user.language if user is not None else "en"
    code = await _issue_code(
        session, settings, CodePurpose.SIGN_IN, address, language, user.id if user else None, now=now
    )
    if code is None or user is None:
        return
    if email is not None:
        ways = [_by_email(user.email)]
    else:
        ways = _by_phone(address, "sms" if channel is Channel.SMS else "whatsapp")
    await _send_code(session, CodePurpose.SIGN_IN, ways, user.language, code, user=user, now=now)


async def sign_in_with_code(
    db: Database, settings: Settings, *, email: str | None, phone: str | None, code: str, now: datetime
) -> TokenPair:
    """The code sent by `request_sign_in_code`: a token pair, as a login answers. The
    address must still be the account's (a number that moved to another account since
    signs no one in)."""
    address = email if email is not None else phone
    assert address is not None
    async with db.transaction() as session:
        taken = await _take_code(session, settings, CodePurpose.SIGN_IN, address, code, now)
        user = await repository.get_user(session, taken.user_id) if taken and taken.user_id else None
        if user is not None and address.lower() in (user.email.lower(), user.phone):
            return await issue_tokens(session, settings, user, family_id=uuid.uuid4(), now=now)
    raise InvalidCode("The code is wrong or no longer valid; ask for a new one.")


def _by_email(email: str) -> Route:
    return Route(Channel.EMAIL, email)


def _by_phone(phone: str, channel: PhoneChannel) -> list[Route]:
    # A number not on WhatsApp (or a deployment without it) still gets its code by SMS.
    if channel == "whatsapp":
        return [Route(Channel.WHATSAPP, phone), Route(Channel.SMS, phone)]
    return [Route(Channel.SMS, phone)]


async def change_password(
    session: AsyncSession,
    settings: Settings,
    passwords: Passwords,
    actor: Actor,
    *,
    current_password: str,
    new_password: str,
    now: datetime,
) -> TokenPair:
    """Signed in, with the current password asked again: every other session ends and
    this one continues with the new pair returned."""
    user = await _user(session, actor)
    if not await passwords.verify(user.password_hash, current_password):
        raise WrongPassword("The current password is wrong.")
    await _replace_password(session, user, await passwords.hash(new_password), now=now)
    return await issue_tokens(session, settings, user, family_id=uuid.uuid4(), now=now)


async def log_out_everywhere(session: AsyncSession, actor: Actor, *, now: datetime) -> None:
    """Every refresh token of the account is revoked. Access tokens already issued live out
    their few minutes (`access_token_minutes`): they are checked by signature alone."""
    await repository.revoke_user_tokens(session, (await _user(session, actor)).id, now)


async def update_profile(
    session: AsyncSession,
    actor: Actor,
    *,
    full_name: str | None,
    language: str | None,
    channels: Sequence[Channel] | None = None,
) -> User:
    """`channels`: those booking messages go by, in the order to try them; one left out is
    opted out of (codes still go where they are asked to). Phone channels alone need a
    proven number: else every message would be dropped unseen (422 `needs_phone`; an
    empty list, opting out of everything, is the explicit way to get none)."""
    user = await _user(session, actor)
    if channels and Channel.EMAIL not in channels and user.phone is None:
        raise ValidationFailed.on(
            "body.channels",
            "needs_phone",
            "SMS and WhatsApp need a proven mobile number: add one at /v1/me/phone, or keep email.",
        )
    if full_name is not None:
        user.full_name = full_name
    if language is not None:
        user.language = language
    if channels is not None:
        user.channels = [channel.value for channel in channels]
    await session.flush()
    return user


async def _user(session: AsyncSession, actor: Actor) -> User:
    user = await repository.get_user(session, actor.user_id)
    if user is None:
        raise InvalidToken("This account no longer exists.")
    return user


async def _replace_password(session: AsyncSession, user: User, password_hash: str, *, now: datetime) -> None:
    user.password_hash = password_hash
    await repository.revoke_user_tokens(session, user.id, now)
    await _notify(session, user, "password_changed", now=now)
    await session.flush()


async def _issue_code(
    session: AsyncSession,
    settings: Settings,
    purpose: CodePurpose,
    address: str,
    language: str,
    user_id: uuid.UUID | None,
    *,
    now: datetime,
) -> str | None:
    """A new code for the address (voiding its older ones), stored as its HMAC; the code,
    or None when the address had CODES_PER_HOUR already (silently: the caller's answer
    must not differ)."""
    await repository.lock_codes_of(session, address, purpose)
    sent = await repository.count_codes_since(session, address, purpose, now - timedelta(hours=1))
    if sent >= CODES_PER_HOUR:
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


async def _send_code(
    session: AsyncSession,
    purpose: CodePurpose,
    ways: Sequence[Route],
    language: str,
    code: str,
    *,
    user: User | None = None,
    now: datetime,
) -> None:
    """The code by the first of `ways`, falling back on the others."""
    params: dict[str, object] = {"code": code, "minutes": int(CODE_TTL.total_seconds() // 60)}
    if user is not None:
        params["name"] = user.full_name
    message = Message.by(
        ways,
        template=f"{purpose.value}_code",
        language=language,
        params=params,
        user_id=user.id if user else None,
        expires_at=now + CODE_TTL,
    )
    await outbox.record(session, message, now=now)


async def _take_code(
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


def _code_key(settings: Settings) -> str:
    # A key of its own, derived from the server's secret: a code's HMAC never shares a key
    # with the access tokens' signatures.
    return hashlib.sha256(
        b"booklnk one-time codes|" + settings.jwt_secret.get_secret_value().encode()
    ).hexdigest()


async def _notify(
    session: AsyncSession,
    user: User,
    template: str,
    *,
    params: dict[str, object] | None = None,
    now: datetime,
    once_per_hour: bool = False,
) -> None:
    # A notice anyone can trigger (registering a taken address) goes at most hourly.
    dedupe = f"{template}:{user.id}:{now:%Y-%m-%dT%H}" if once_per_hour else None
    await _notify_address(
        session,
        user.email,
        user.language,
        template,
        params={"name": user.full_name, **(params or {})},
        user_id=user.id,
        dedupe_key=dedupe,
        now=now,
    )


async def _notify_address(
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
