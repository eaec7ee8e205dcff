"""Accounts proven by e-mail: registration by a one-time code, password reset, password
change, signing out everywhere, the profile.

Nothing here tells a caller whether an address has an account. Registering an address
that has one sends its owner a notice instead of a code; asking to reset the password of
an address without one sends nothing; both answer the same. The account is made only when
its code comes back, so a stranger cannot hold an address they do not read.

Using a code owns its transaction (as login does): a wrong guess must be counted even
though the request fails."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.notifications import outbox
from booklnk.notifications.outbox import Message
from booklnk.tenancy import credentials, repository
from booklnk.tenancy.auth import TokenPair, issue_tokens
from booklnk.tenancy.context import Actor
from booklnk.tenancy.credentials import Passwords
from booklnk.tenancy.errors import InvalidCode, InvalidToken, WrongPassword
from booklnk.tenancy.models import CodePurpose, OneTimeCode, User

CODE_TTL = timedelta(minutes=15)
# Wrong guesses a code takes before it dies (a new one must be asked for): 5 in a million.
CODE_ATTEMPTS = 5
# Codes (or notices) one address can be sent per purpose and hour: anyone can ask, so the
# outbox must not become a way to flood someone's mailbox.
CODES_PER_HOUR = 5
# How long a notice (no code in it) is worth sending through an outage.
NOTICE_TTL = timedelta(days=1)


async def request_registration(
    session: AsyncSession,
    settings: Settings,
    passwords: Passwords,
    *,
    email: str,
    password: str,
    full_name: str,
    language: str,
    now: datetime,
) -> None:
    # Hashed whichever way it goes, so the answer takes as long for a taken address.
    password_hash = await passwords.hash(password)
    user = await repository.get_user_by_email(session, email)
    if user is not None:
        await _notify(session, user, "account_exists", now=now, once_per_hour=True)
        return
    pending = {"full_name": full_name, "password_hash": password_hash}
    await _send_code(
        session, settings, CodePurpose.REGISTRATION, email, language, full_name, pending=pending, now=now
    )


async def verify_registration(
    db: Database, settings: Settings, *, email: str, code: str, now: datetime
) -> TokenPair:
    """The code sent at registration: the account is made and signed in."""
    async with db.transaction() as session:
        taken = await _take_code(session, settings, CodePurpose.REGISTRATION, email, code, now)
        if taken is not None and not await repository.email_exists(session, email):
            user = User(
                id=uuid.uuid4(),
                email=taken.email,
                full_name=taken.pending["full_name"],
                password_hash=taken.pending["password_hash"],
                language=taken.language,
                is_platform_admin=False,
            )
            session.add(user)
            try:
                await session.flush()
            except IntegrityError:  # made meanwhile (another code of a voided pair, an admin)
                raise InvalidCode("The code is wrong or no longer valid; ask for a new one.") from None
            return await issue_tokens(session, settings, user, family_id=uuid.uuid4(), now=now)
    raise InvalidCode("The code is wrong or no longer valid; ask for a new one.")


async def request_password_reset(
    session: AsyncSession, settings: Settings, *, email: str, now: datetime
) -> None:
    user = await repository.get_user_by_email(session, email)
    if user is not None:
        await _send_code(
            session,
            settings,
            CodePurpose.PASSWORD_RESET,
            user.email,
            user.language,
            user.full_name,
            user_id=user.id,
            now=now,
        )


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
    session: AsyncSession, actor: Actor, *, full_name: str | None, language: str | None
) -> User:
    user = await _user(session, actor)
    if full_name is not None:
        user.full_name = full_name
    if language is not None:
        user.language = language
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


async def _send_code(
    session: AsyncSession,
    settings: Settings,
    purpose: CodePurpose,
    email: str,
    language: str,
    name: str,
    *,
    user_id: uuid.UUID | None = None,
    pending: dict[str, Any] | None = None,
    now: datetime,
) -> None:
    """A new code for the address (voiding its older ones), and the message carrying it;
    nothing when the address was sent CODES_PER_HOUR already (silently: the caller's
    answer must not differ)."""
    await repository.lock_codes_of(session, email, purpose)
    sent = await repository.count_codes_since(session, email, purpose, now - timedelta(hours=1))
    if sent >= CODES_PER_HOUR:
        return
    await repository.void_codes(session, email, purpose, now)
    code, code_id = credentials.new_code(), uuid.uuid4()
    session.add(
        OneTimeCode(
            id=code_id,
            purpose=purpose,
            email=email,
            user_id=user_id,
            code_hash=credentials.hash_code(_code_key(settings), code_id, code),
            language=language,
            pending=pending or {},
            attempts=0,
            created_at=now,
            expires_at=now + CODE_TTL,
        )
    )
    await session.flush()
    message = Message(
        address=email,
        template=f"{purpose.value}_code",
        language=language,
        params={"name": name, "code": code, "minutes": int(CODE_TTL.total_seconds() // 60)},
        user_id=user_id,
        expires_at=now + CODE_TTL,
    )
    await outbox.record(session, message, now=now)


async def _take_code(
    session: AsyncSession, settings: Settings, purpose: CodePurpose, email: str, code: str, now: datetime
) -> OneTimeCode | None:
    """The address's live code if `code` is it (then used up); None otherwise, a wrong
    guess counted against the code (committed with the caller's transaction)."""
    live = await repository.lock_live_code(session, email, purpose, now)
    if live is None or live.attempts >= CODE_ATTEMPTS:
        return None
    if not credentials.same_digest(credentials.hash_code(_code_key(settings), live.id, code), live.code_hash):
        live.attempts += 1
        return None
    live.used_at = now
    await session.flush()
    return live


def _code_key(settings: Settings) -> str:
    return settings.jwt_secret.get_secret_value()


async def _notify(
    session: AsyncSession, user: User, template: str, *, now: datetime, once_per_hour: bool = False
) -> None:
    # A notice anyone can trigger (registering a taken address) goes at most hourly.
    dedupe = f"{template}:{user.id}:{now:%Y-%m-%dT%H}" if once_per_hour else None
    message = Message(
        address=user.email,
        template=template,
        language=user.language,
        params={"name": user.full_name},
        user_id=user.id,
        expires_at=now + NOTICE_TTL,
        dedupe_key=dedupe,
    )
    await outbox.record(session, message, now=now)
