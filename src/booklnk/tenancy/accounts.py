"""Accounts proven by e-mail: registration by a one-time code, password reset, password
change, signing out everywhere, the profile; a signed-in account's number, and signing in
by a code (accounts made by a number alone: `phone_sign_up`).

Nothing here tells a caller whether an address has an account, by the answer or by the
steps taken: a code is issued for every request. Registering an address that has an
account sends its owner a notice instead of the code; asking to reset the password of an
address without one sends a note that there is none. The account is made only when its
code comes back, with its password and name, so only whoever reads the mailbox makes it.

Using a code owns its transaction (as login does): a wrong guess must be counted even
though the request fails."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.kernel.errors import TooManyRequests, ValidationFailed
from booklnk.notifications.models import Channel
from booklnk.tenancy import codes, repository
from booklnk.tenancy.auth import TokenPair, issue_tokens
from booklnk.tenancy.codes import CODES_PER_NUMBER_PER_DAY, PHONE_CODES_PER_DAY, PhoneChannel
from booklnk.tenancy.context import Actor
from booklnk.tenancy.credentials import Passwords
from booklnk.tenancy.errors import InvalidCode, InvalidToken, WrongPassword
from booklnk.tenancy.models import CodePurpose, User


async def request_registration(
    session: AsyncSession, settings: Settings, *, email: str, language: str, now: datetime
) -> None:
    """Either way a code is issued, so both cases take the same steps; only an address
    without an account is sent it (one with an account gets a notice instead)."""
    user = await repository.get_user_by_email(session, email)
    owner = user.id if user else None
    code = await codes.issue_code(
        session, settings, CodePurpose.REGISTRATION, email, language, owner, now=now
    )
    if code is None:
        return
    if user is not None:
        await codes.notify(session, user, "account_exists", now=now, once_per_hour=True)
    else:
        await codes.send_code(
            session, CodePurpose.REGISTRATION, [codes.by_email(email)], language, code, now=now
        )


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
        taken = await codes.take_code(session, settings, CodePurpose.REGISTRATION, email, code, now)
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
    if user is not None:  # (found by its e-mail, so it has one)
        email, language = user.email or email, user.language
    owner = user.id if user else None
    code = await codes.issue_code(
        session, settings, CodePurpose.PASSWORD_RESET, email, language, owner, now=now
    )
    if code is None:
        return
    if user is not None:
        await codes.send_code(
            session, CodePurpose.PASSWORD_RESET, [codes.by_email(email)], language, code, user=user, now=now
        )
    else:
        await codes.notify_address(session, email, language, "password_reset_no_account", now=now)


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
        taken = await codes.take_code(session, settings, CodePurpose.PASSWORD_RESET, email, code, now)
        user = await repository.get_user(session, taken.user_id) if taken and taken.user_id else None
        if user is not None:
            await _replace_password(session, user, password_hash, now=now)
            return
    raise InvalidCode("The code is wrong or no longer valid; ask for a new one.")


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
    code = await codes.issue_code(
        session, settings, CodePurpose.PHONE_VERIFICATION, phone, user.language, user.id, now=now
    )
    if code is not None:
        await codes.send_code(
            session,
            CodePurpose.PHONE_VERIFICATION,
            codes.by_phone(phone, channel),
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
    holds. Except when the number is that account's only way in (it was made by the number):
    moving it would lock the account for ever, and whoever proved the number can sign in to
    it by a code anyway (so saying so tells them nothing new): 422 `holds_account`."""
    async with db.transaction() as session:
        taken = await codes.take_code(session, settings, CodePurpose.PHONE_VERIFICATION, phone, code, now)
        if taken is not None and taken.user_id == actor.user_id:
            user = await _user(session, actor)
            previous = await repository.get_user_by_phone(session, phone)
            if previous is not None and previous.id != user.id:
                if previous.email is None:
                    raise ValidationFailed.on(
                        "body.phone",
                        "holds_account",
                        "This number is the only way into another account: sign in with a code sent to it.",
                    )
                previous.phone = None
                await session.flush()  # (before the unique number moves)
                await codes.notify(session, previous, "phone_removed", params={"phone": phone}, now=now)
            user.phone = phone
            await session.flush()
            return user
    raise InvalidCode("The code is wrong or no longer valid; ask for a new one.")


async def remove_phone(session: AsyncSession, actor: Actor) -> User:
    """The number goes, unless it is the account's only way in (an account made by the
    number: 422 `only_address`)."""
    user = await _user(session, actor)
    if user.email is None:
        raise ValidationFailed.on(
            "phone", "only_address", "This number is the account's only way in: it cannot be removed."
        )
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
    code = await codes.issue_code(
        session,
        settings,
        CodePurpose.SIGN_IN,
        address,
        language,
        user.id if user else None,
        now=now,
        per_day=CODES_PER_NUMBER_PER_DAY if phone is not None else None,
    )
    if code is None or user is None:
        return
    if email is not None:
        ways = [codes.by_email(user.email or address)]  # (as the account spells it)
    else:
        ways = codes.by_phone(address, "sms" if channel is Channel.SMS else "whatsapp")
    await codes.send_code(session, CodePurpose.SIGN_IN, ways, user.language, code, user=user, now=now)


async def sign_in_with_code(
    db: Database, settings: Settings, *, email: str | None, phone: str | None, code: str, now: datetime
) -> TokenPair:
    """The code sent by `request_sign_in_code`: a token pair, as a login answers. The
    address must still be the account's (a number that moved to another account since
    signs no one in)."""
    address = email if email is not None else phone
    assert address is not None
    async with db.transaction() as session:
        taken = await codes.take_code(session, settings, CodePurpose.SIGN_IN, address, code, now)
        user = await repository.get_user(session, taken.user_id) if taken and taken.user_id else None
        if user is not None and address.lower() in ((user.email or "").lower(), user.phone):
            return await issue_tokens(session, settings, user, family_id=uuid.uuid4(), now=now)
    raise InvalidCode("The code is wrong or no longer valid; ask for a new one.")


async def confirm_with_code(
    db: Database, settings: Settings, actor: Actor, *, code: str, now: datetime
) -> None:
    """A sign-in code sent to the signed-in account's number came back: what an account
    with no password (one made by its number) confirms a grave step with, as others type
    their password again. Its own transaction, as every code's: a wrong guess counts."""
    async with db.transaction() as session:
        user = await _user(session, actor)
        if user.phone is not None:
            taken = await codes.take_code(session, settings, CodePurpose.SIGN_IN, user.phone, code, now)
            if taken is not None and taken.user_id == user.id:
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
    if user.password_hash is None:
        # An account made by a code has no password; one set here could never be used to
        # log in without an e-mail address, so none is taken.
        raise WrongPassword("This account has no password: it signs in by a code sent to its number.")
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
    if channels and user.email is None and set(channels) == {Channel.EMAIL}:
        raise ValidationFailed.on(
            "body.channels",
            "needs_email",
            "This account has no e-mail address: keep whatsapp or sms.",
        )
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
    await codes.notify(session, user, "password_changed", now=now)
    await session.flush()
