"""Login, refresh-token rotation and logout (registration: `tenancy.accounts`).

Login and refresh own their transactions (like a job does): a failed login must still
count against the throttle, and a reused refresh token must still revoke its family,
even though the request itself fails.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.tenancy import credentials, repository, throttle
from booklnk.tenancy.credentials import Passwords
from booklnk.tenancy.errors import InvalidCredentials, InvalidToken, LoginThrottled
from booklnk.tenancy.models import RefreshToken, User


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime


def _policies(settings: Settings) -> tuple[throttle.Policy, throttle.Policy]:
    """The account-from-one-address policy, and the looser one of an address (spraying)."""
    pair = throttle.Policy(
        free_failures=settings.login_failures_before_delay,
        max_delay_seconds=settings.login_max_delay_seconds,
        forget_after_seconds=settings.login_forget_after_seconds,
    )
    address = throttle.Policy(
        free_failures=settings.login_max_failures_per_address,
        max_delay_seconds=settings.login_max_delay_seconds,
        forget_after_seconds=settings.login_window_seconds,
    )
    return pair, address


async def login(
    db: Database,
    settings: Settings,
    passwords: Passwords,
    *,
    email: str,
    password: str,
    address: str,
    now: datetime,
) -> TokenPair:
    pair_key, address_key = f"pair:{email.lower()}|{address}", f"address:{address}"
    policies = dict(zip((pair_key, address_key), _policies(settings), strict=True))
    # The attempt is counted as a failure before its password is checked, under the rows'
    # locks and committed at once, so concurrent guesses cannot all read "still allowed";
    # a success gives it back. A refused attempt changes nothing (it is not a guess).
    async with db.transaction() as session:
        records = await repository.lock_login_throttles(session, list(policies), now)
        wait = max(throttle.wait_seconds(records[key], now, policy) for key, policy in policies.items())
        if wait == 0:
            reserved = {key: throttle.reserve(records[key], now, policy) for key, policy in policies.items()}
            await repository.save_login_throttles(session, reserved)
    if wait > 0:
        raise LoginThrottled("Too many failed logins; try again later.", retry_after_seconds=wait)
    async with db.transaction() as session:
        user = await repository.get_user_by_email(session, email)
        if await passwords.verify(user.password_hash if user else None, password):
            assert user is not None
            assert user.password_hash is not None  # (verify says False without one)
            if passwords.needs_rehash(user.password_hash):
                user.password_hash = await passwords.hash(password)
            await _give_back(session, pair_key, address_key, now)
            return await issue_tokens(session, settings, user, family_id=uuid.uuid4(), now=now)
    raise InvalidCredentials("Email or password is wrong.")


async def _give_back(session: AsyncSession, pair_key: str, address_key: str, now: datetime) -> None:
    """The right password: this account's failures from this address are forgiven (its
    owner is back), and the address gets back the one failure reserved."""
    records = await repository.lock_login_throttles(session, [pair_key, address_key], now)
    await repository.save_login_throttles(
        session,
        {pair_key: throttle.Record(0, now, now), address_key: throttle.give_back(records[address_key])},
    )


async def refresh(
    db: Database,
    settings: Settings,
    *,
    raw_token: str,
    now: datetime,
    reuse_grace: timedelta | None = None,
) -> TokenPair:
    """A new pair for a refresh token, which is spent. A spent token that comes back means
    a stolen copy, and its whole family is revoked; except within `reuse_grace` of its
    spending, where it is the same browser's other tab renewing at the same moment (its
    cookies shared): that one gets a pair of its own in the same family."""
    async with db.transaction() as session:
        token = await repository.get_refresh_token_for_update(
            session, credentials.hash_opaque_token(raw_token)
        )
        if token is None or token.revoked_at is not None or token.expires_at <= now:
            token = None
        elif token.used_at is not None and reuse_grace is not None and now - token.used_at <= reuse_grace:
            user = await repository.get_user(session, token.user_id)
            if user is not None:
                return await issue_tokens(session, settings, user, family_id=token.family_id, now=now)
        elif token.used_at is not None:
            # A rotated-out token came back: someone holds a stolen copy. Kill the family.
            await repository.revoke_token_family(session, token.family_id, now)
            token = None
        else:
            user = await repository.get_user(session, token.user_id)
            if user is not None:
                token.used_at = now
                return await issue_tokens(session, settings, user, family_id=token.family_id, now=now)
    raise InvalidToken("The refresh token is invalid, expired or revoked.")


async def logout(session: AsyncSession, *, raw_token: str, now: datetime) -> None:
    """Revoke the token's whole family; unknown tokens are ignored (logout is idempotent)."""
    token = await repository.get_refresh_token_for_update(session, credentials.hash_opaque_token(raw_token))
    if token is not None:
        await repository.revoke_token_family(session, token.family_id, now)


async def issue_tokens(
    session: AsyncSession, settings: Settings, user: User, *, family_id: uuid.UUID, now: datetime
) -> TokenPair:
    access_ttl = timedelta(minutes=settings.access_token_minutes)
    refresh_expires_at = now + timedelta(days=settings.refresh_token_days)
    raw, digest = credentials.new_opaque_token()
    session.add(
        RefreshToken(
            id=uuid.uuid4(),
            user_id=user.id,
            family_id=family_id,
            token_hash=digest,
            issued_at=now,
            expires_at=refresh_expires_at,
        )
    )
    await session.flush()
    access = credentials.issue_access_token(
        secret=settings.jwt_secret.get_secret_value(),
        user_id=user.id,
        is_platform_admin=user.is_platform_admin,
        now=now,
        ttl=access_ttl,
        language=user.language,
    )
    return TokenPair(access, now + access_ttl, raw, refresh_expires_at)


async def make_platform_admin(
    session: AsyncSession, passwords: Passwords, *, email: str, password: str, full_name: str
) -> User:
    """Create a platform admin, or promote an existing account; either way the password
    given becomes the account's password."""
    password_hash = await passwords.hash(password)
    user = await repository.get_user_by_email(session, email)
    if user is None:
        user = User(id=uuid.uuid4(), email=email, full_name=full_name, password_hash=password_hash)
        session.add(user)
    else:
        user.password_hash = password_hash
    user.is_platform_admin = True
    await session.flush()
    return user
