"""Signing up by a mobile number alone: a customer booking on a phone, with no e-mail
address, gets a code by WhatsApp (falling back on SMS) or SMS, and sends it back with
their name; the account is made with the number proven, no e-mail and no password (it
signs in by codes to the number, `accounts.request_sign_in_code`).

Nothing tells a caller whether a number has an account: a code is issued either way, in
the same steps and under the same limits. A number that has one is sent a sign-in code
instead of a sign-up code, and sending that code back here signs its account in (the
name given is not used). A notice would be the e-mail flow's answer, but for a number it
is an SMS someone pays for that leads nowhere, while the person holding the phone (the
only one who reads the code) can sign in with a code to it anyway: so the sign-up simply
becomes a sign-in, and a customer who forgot they had an account is not stopped.

Using a code owns its transaction: a wrong guess must be counted though the request fails."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.tenancy import codes, repository
from booklnk.tenancy.auth import TokenPair, issue_tokens
from booklnk.tenancy.codes import CODES_PER_NUMBER_PER_DAY, PhoneChannel
from booklnk.tenancy.errors import InvalidCode
from booklnk.tenancy.models import CodePurpose, User


async def request_phone_registration(
    session: AsyncSession,
    settings: Settings,
    *,
    phone: str,
    channel: PhoneChannel,
    language: str,
    now: datetime,
) -> None:
    """A code to `phone` (E.164) by `channel`: a sign-up code, or a sign-in code to a
    number that has an account (in the account's language). Silent past CODES_PER_HOUR
    for the number, or CODES_PER_NUMBER_PER_DAY of any purpose: the answer never differs."""
    user = await repository.get_user_by_phone(session, phone)
    language = user.language if user is not None else language
    code = await codes.issue_code(
        session,
        settings,
        CodePurpose.REGISTRATION,
        phone,
        language,
        user.id if user else None,
        now=now,
        per_day=CODES_PER_NUMBER_PER_DAY,
    )
    if code is None:
        return
    await codes.send_code(
        session,
        CodePurpose.REGISTRATION,
        codes.by_phone(phone, channel),
        language,
        code,
        user=user,
        template=f"{CodePurpose.SIGN_IN.value}_code" if user is not None else None,
        now=now,
    )


async def verify_phone_registration(
    db: Database, settings: Settings, *, phone: str, code: str, full_name: str, now: datetime
) -> TokenPair:
    """The code sent to `phone`, with the name of whoever holds it: the account is made
    (or, for a number that has one, signed in) and its first token pair answered."""
    async with db.transaction() as session:
        taken = await codes.take_code(session, settings, CodePurpose.REGISTRATION, phone, code, now)
        if taken is not None:
            # A number proven by an account since the code was sent signs that account in:
            # the code proves the phone is in hand, which is all a sign-in code proves.
            user = await repository.get_user_by_phone(session, phone)
            if user is None:
                user = await _make_account(session, phone, full_name, taken.language)
            return await issue_tokens(session, settings, user, family_id=uuid.uuid4(), now=now)
    raise InvalidCode("The code is wrong or no longer valid; ask for a new one.")


async def _make_account(session: AsyncSession, phone: str, full_name: str, language: str) -> User:
    user = User(
        id=uuid.uuid4(),
        email=None,
        phone=phone,
        full_name=full_name,
        password_hash=None,
        language=language,
        is_platform_admin=False,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:  # proven by another account at the same moment
        raise InvalidCode("The code is wrong or no longer valid; ask for a new one.") from None
    return user
