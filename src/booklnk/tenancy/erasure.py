"""An account erased at its owner's request (the use case that spans the businesses it
booked at is `flows.accounts.delete_account`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.tenancy import repository
from booklnk.tenancy.context import Actor
from booklnk.tenancy.credentials import Passwords
from booklnk.tenancy.errors import InvalidToken, WrongPassword
from booklnk.tenancy.models import User

DELETED_NAME = "Deleted account"


async def confirm_password(
    session: AsyncSession,
    passwords: Passwords,
    actor: Actor,
    password: str | None,
    *,
    code_taken: bool = False,
) -> User:
    """The caller, who typed their password again (403 `wrong_password` otherwise); for an
    account made by a number, which has no password, whose sign-in code came back
    (`code_taken`: `accounts.confirm_with_code` took it)."""
    user = await repository.get_user(session, actor.user_id)
    if user is None:
        raise InvalidToken("This account no longer exists.")
    if user.password_hash is None:
        if not code_taken:
            raise WrongPassword("This account has no password: confirm with a code sent to its number.")
        return user
    if password is None or not await passwords.verify(user.password_hash, password):
        raise WrongPassword("The password is wrong.")
    return user


async def erase(session: AsyncSession, user: User, *, now: datetime) -> None:
    """Nothing personal is left of the account: its name, e-mail, number, password and
    preferences are replaced, its sessions end, its codes go. The row stays (bookings,
    payments and the ledger name it) and `deleted_at` makes every token of it refused.
    The e-mail may sign up again as a new account."""
    addresses = [address for address in (user.email, user.phone) if address]
    user.full_name = DELETED_NAME
    user.email = f"deleted-{user.id.hex}@deleted.invalid"
    user.phone = None
    user.password_hash = "!"  # no Argon2 hash: nothing verifies against it
    user.channels = []
    user.is_platform_admin = False
    user.deleted_at = now
    await repository.revoke_user_tokens(session, user.id, now)
    await repository.forget_codes(session, user.id, addresses)
    await session.flush()
