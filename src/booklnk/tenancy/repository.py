"""All SQL of the tenancy domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.business_types.models import BusinessType
from booklnk.db.pagination import fetch_page, fetch_rows_page
from booklnk.tenancy import throttle
from booklnk.tenancy.models import (
    Business,
    CodePurpose,
    Invitation,
    LoginThrottle,
    Membership,
    OneTimeCode,
    RefreshToken,
    Role,
    User,
)


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    # Lowercased by PostgreSQL on both sides, as the unique index does (Python's lower()
    # differs for some letters, e.g. the Turkish dotted capital I).
    stmt = select(User).where(func.lower(User.email) == func.lower(email))
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_user_by_phone(session: AsyncSession, phone: str) -> User | None:
    return (await session.execute(select(User).where(User.phone == phone))).scalar_one_or_none()


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    """The account, unless it was deleted (its row stays, with nothing of it left)."""
    user = await session.get(User, user_id)
    return user if user is not None and user.deleted_at is None else None


async def email_exists(session: AsyncSession, email: str) -> bool:
    stmt = select(func.count()).where(func.lower(User.email) == func.lower(email))
    return bool((await session.execute(stmt)).scalar_one())


async def get_refresh_token_for_update(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    stmt = select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def revoke_token_family(session: AsyncSession, family_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_user_tokens(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> None:
    """Every live refresh token of the account: it is signed out everywhere."""
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def _codes_of(address: str, purpose: CodePurpose) -> tuple[ColumnElement[bool], ...]:
    return (func.lower(OneTimeCode.address) == func.lower(address), OneTimeCode.purpose == purpose)


_LOCK_CODES = text(
    "SELECT pg_advisory_xact_lock(hashtextextended('code:' || lower(:address) || ':' || :purpose, 0))"
)


async def lock_codes_of(session: AsyncSession, address: str, purpose: CodePurpose) -> None:
    """Until the transaction ends, the address's codes for `purpose` are issued one request
    at a time: two at once would each void the other's predecessors and both stay live."""
    await session.execute(_LOCK_CODES, {"address": address, "purpose": purpose.value})


async def count_codes_since(
    session: AsyncSession, address: str, purpose: CodePurpose, since: datetime
) -> int:
    stmt = select(func.count()).where(*_codes_of(address, purpose), OneTimeCode.created_at > since)
    return int((await session.execute(stmt)).scalar_one())


async def count_user_codes_since(
    session: AsyncSession, user_id: uuid.UUID, purpose: CodePurpose, since: datetime
) -> int:
    stmt = select(func.count()).where(
        OneTimeCode.user_id == user_id, OneTimeCode.purpose == purpose, OneTimeCode.created_at > since
    )
    return int((await session.execute(stmt)).scalar_one())


async def void_codes(session: AsyncSession, address: str, purpose: CodePurpose, now: datetime) -> None:
    """The address's live codes for `purpose` stop working (a newer one replaces them)."""
    await session.execute(
        update(OneTimeCode)
        .where(*_codes_of(address, purpose), OneTimeCode.used_at.is_(None), OneTimeCode.expires_at > now)
        .values(expires_at=now)
    )


async def lock_live_code(
    session: AsyncSession, address: str, purpose: CodePurpose, now: datetime
) -> OneTimeCode | None:
    """The address's one live code for `purpose`, locked: concurrent guesses queue on it."""
    stmt = (
        select(OneTimeCode)
        .where(*_codes_of(address, purpose), OneTimeCode.used_at.is_(None), OneTimeCode.expires_at > now)
        .order_by(OneTimeCode.created_at.desc())
        .limit(1)
        .with_for_update()
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def lock_login_throttles(
    session: AsyncSession, keys: Sequence[str], now: datetime
) -> dict[str, throttle.Record]:
    """Each key's record, its row locked until the transaction ends (created empty when
    missing, so a first attempt locks too). Locked in key order: two logins locking the
    same keys never deadlock."""
    ordered = sorted(set(keys))
    await session.execute(
        insert(LoginThrottle)
        .values([{"key": k, "failures": 0, "last_failure_at": now, "forget_at": now} for k in ordered])
        .on_conflict_do_nothing(index_elements=[LoginThrottle.key])
    )
    rows = await session.execute(
        select(LoginThrottle)
        .where(LoginThrottle.key.in_(ordered))
        .order_by(LoginThrottle.key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {
        row.key: throttle.Record(row.failures, row.last_failure_at, row.forget_at) for row in rows.scalars()
    }


async def save_login_throttles(session: AsyncSession, records: dict[str, throttle.Record]) -> None:
    for key, record in sorted(records.items()):
        await session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == key)
            .values(
                failures=record.failures, last_failure_at=record.last_failure_at, forget_at=record.forget_at
            )
        )


async def get_business(session: AsyncSession, business_id: uuid.UUID) -> Business | None:
    return await session.get(Business, business_id)


async def time_zones(session: AsyncSession, business_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Each business's time zone, in one query."""
    if not business_ids:
        return {}
    stmt = select(Business.id, Business.time_zone).where(Business.id.in_(set(business_ids)))
    return {business_id: zone for business_id, zone in (await session.execute(stmt)).all()}


# Whether the caller's account still exists rides along: a token outlives its account.
_ACCOUNT_EXISTS = select(User.id).where(User.id == bindparam("user_id"), User.deleted_at.is_(None)).exists()
# Built once: building a statement costs more than running this one.
_BUSINESS_ACCESS = (
    select(Business, Membership.role, cast(BusinessType.definition, Text), _ACCOUNT_EXISTS)
    .join(BusinessType, BusinessType.key == Business.business_type_key)
    .outerjoin(
        Membership,
        and_(Membership.business_id == Business.id, Membership.user_id == bindparam("user_id")),
    )
    .where(Business.id == bindparam("business_id"))
)
_BUSINESS_WITH_TYPE = (
    select(Business, cast(BusinessType.definition, Text))
    .join(BusinessType, BusinessType.key == Business.business_type_key)
    .where(Business.id == bindparam("business_id"))
)


async def get_business_with_type(
    session: AsyncSession, business_id: uuid.UUID
) -> tuple[Business, str] | None:
    """The business and its type's stored definition (JSON text), in one query."""
    row = (await session.execute(_BUSINESS_WITH_TYPE, {"business_id": business_id})).one_or_none()
    return (row[0], row[1]) if row is not None else None


# A visitor's way in (no account): the business by its slug. Business rows are public
# (policy business_read) and business_type has no policy.
_BY_SLUG = (
    select(Business, cast(BusinessType.definition, Text))
    .join(BusinessType, BusinessType.key == Business.business_type_key)
    .where(Business.slug == bindparam("slug"))
)


async def business_by_slug(session: AsyncSession, slug: str) -> tuple[Business, str] | None:
    """The business with this slug and its type's stored definition (JSON text)."""
    row = (await session.execute(_BY_SLUG, {"slug": slug})).one_or_none()
    return (row[0], row[1]) if row is not None else None


async def get_business_access(
    session: AsyncSession, business_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[Business, Role | None, str, bool] | None:
    """In one query: the business, the user's role there (None: no membership), its
    type's stored definition as JSON text and whether the user's account exists. None when
    there is no such business."""
    params = {"business_id": business_id, "user_id": user_id}
    row = (await session.execute(_BUSINESS_ACCESS, params)).one_or_none()
    return (row[0], row[1], row[2], row[3]) if row is not None else None


async def user_exists(session: AsyncSession, user_id: uuid.UUID) -> bool:
    """The account exists and was not deleted."""
    return await get_user(session, user_id) is not None


async def businesses_page(
    session: AsyncSession, *, cursor: str | None, limit: int
) -> tuple[list[Business], str | None]:
    return await fetch_page(
        session, select(Business), order_by=[Business.name, Business.id], cursor=cursor, limit=limit
    )


async def lock_business(session: AsyncSession, business_id: uuid.UUID) -> None:
    await session.execute(select(Business.id).where(Business.id == business_id).with_for_update())


async def slug_exists(session: AsyncSession, slug: str) -> bool:
    stmt = select(func.count()).where(Business.slug == slug)
    return bool((await session.execute(stmt)).scalar_one())


async def get_membership(
    session: AsyncSession, business_id: uuid.UUID, user_id: uuid.UUID
) -> Membership | None:
    return await session.get(Membership, (business_id, user_id))


async def list_user_memberships(
    session: AsyncSession, user_id: uuid.UUID
) -> Sequence[tuple[Membership, Business]]:
    stmt = (
        select(Membership, Business)
        .join(Business, Business.id == Membership.business_id)
        .where(Membership.user_id == user_id)
        .order_by(Business.name, Business.id)
    )
    return [(m, b) for m, b in (await session.execute(stmt)).all()]


async def list_business_members(
    session: AsyncSession, business_id: uuid.UUID, *, cursor: str | None, limit: int
) -> tuple[list[tuple[Membership, User]], str | None]:
    stmt = (
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.business_id == business_id)
    )
    rows, next_cursor = await fetch_rows_page(
        session, stmt, order_by=[User.full_name, User.id], cursor=cursor, limit=limit
    )
    return [(m, u) for m, u in rows], next_cursor


async def count_owners(session: AsyncSession, business_id: uuid.UUID) -> int:
    stmt = select(func.count()).where(Membership.business_id == business_id, Membership.role == Role.OWNER)
    return int((await session.execute(stmt)).scalar_one())


async def get_invitation_by_token(
    session: AsyncSession, business_id: uuid.UUID, token_hash: str
) -> Invitation | None:
    stmt = (
        select(Invitation)
        .where(Invitation.business_id == business_id, Invitation.token_hash == token_hash)
        .with_for_update()
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_invitation(
    session: AsyncSession, business_id: uuid.UUID, invitation_id: uuid.UUID
) -> Invitation | None:
    return await session.get(Invitation, (business_id, invitation_id))


async def pending_invitation_to(
    session: AsyncSession, business_id: uuid.UUID, email: str, now: datetime
) -> Invitation | None:
    stmt = select(Invitation).where(
        Invitation.business_id == business_id,
        func.lower(Invitation.email) == email.lower(),
        Invitation.accepted_at.is_(None),
        Invitation.expires_at > now,
    )
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def list_pending_invitations(
    session: AsyncSession, business_id: uuid.UUID, *, cursor: str | None, limit: int
) -> tuple[list[Invitation], str | None]:
    stmt = select(Invitation).where(Invitation.business_id == business_id, Invitation.accepted_at.is_(None))
    return await fetch_page(
        session, stmt, order_by=[Invitation.created_at, Invitation.id], cursor=cursor, limit=limit
    )


async def forget_codes(session: AsyncSession, user_id: uuid.UUID, addresses: Sequence[str]) -> None:
    """Every one-time code of the account or sent to its addresses (a deleted account's)."""
    await session.execute(
        delete(OneTimeCode).where(
            or_(
                OneTimeCode.user_id == user_id,
                func.lower(OneTimeCode.address).in_([a.lower() for a in addresses]),
            )
        )
    )


async def count_address_codes_since(session: AsyncSession, address: str, since: datetime) -> int:
    """Codes sent to the address since `since`, whatever their purposes."""
    stmt = select(func.count()).where(
        func.lower(OneTimeCode.address) == func.lower(address), OneTimeCode.created_at > since
    )
    return int((await session.execute(stmt)).scalar_one())
