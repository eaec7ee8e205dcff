"""A business's staff keep their customers' records: add, find, read and edit them, and
book a walk-in by their record. Every use case here is for staff and owners (the routes
guard the role); a record of another business is 404 `customer_not_found`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.audit import log as audit
from booklnk.customers import events, names, repository
from booklnk.customers.errors import CustomerNotFound
from booklnk.customers.models import CustomerRecord
from booklnk.db.pagination import fetch_rows_page
from booklnk.kernel.errors import ValidationFailed, VersionMismatch
from booklnk.tenancy import repository as accounts
from booklnk.tenancy.context import BusinessContext
from booklnk.tenancy.models import User


@dataclass(frozen=True, slots=True)
class CustomerView:
    """A record with what its account says: a linked record's name and number are the
    account's unless staff wrote their own. The account's e-mail is never shown to staff."""

    record: CustomerRecord
    account_name: str | None
    account_phone: str | None

    @property
    def name(self) -> str:
        name = self.record.name or self.account_name
        assert name is not None  # the `named` check: a record without a name has an account
        return name

    @property
    def phone(self) -> str | None:
        return self.record.phone or self.account_phone


@dataclass(frozen=True, slots=True)
class BookedAs:
    """Whom a staff booking by record is for: its account if it has one, else the name."""

    record_id: uuid.UUID
    user_id: uuid.UUID | None
    name: str


@dataclass(frozen=True, slots=True)
class Search:
    query: str | None = None
    tag: str | None = None
    cursor: str | None = None
    limit: int = 50


def _viewed() -> Select[CustomerRecord, str, str | None]:
    # (An outer join: a walk-in's record reads None for the account's name too.)
    return select(CustomerRecord, User.full_name, User.phone).outerjoin(
        User, User.id == CustomerRecord.user_id
    )


async def add(
    session: AsyncSession, ctx: BusinessContext, fields: dict[str, Any], *, now: datetime
) -> CustomerView:
    """A record staff make (a walk-in, or someone who calls): 409 `customer_exists` when
    the number has a record here already (its id in `customer_id`)."""
    record = await repository.add(session, ctx.business_id, fields)
    await _audit(session, ctx, "customer.created", record.id, sorted(fields))
    await events.created(session, ctx.business_id, record.id, account_id=None, now=now)
    return CustomerView(record, None, None)


async def get(session: AsyncSession, ctx: BusinessContext, record_id: uuid.UUID) -> CustomerView:
    stmt = _viewed().where(CustomerRecord.business_id == ctx.business_id, CustomerRecord.id == record_id)
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        raise CustomerNotFound("This business has no customer with this id.")
    return CustomerView(*row)


async def change(
    session: AsyncSession,
    ctx: BusinessContext,
    record_id: uuid.UUID,
    changes: dict[str, Any],
    *,
    expected_version: int | None,
) -> CustomerView:
    """Staff's edits; with `expected_version` (If-Match) 412 `version_mismatch` when
    someone changed the record since it was read (two people at the desk on one record).
    A record's name may be cleared only while it has an account to name it."""
    view = await get(session, ctx, record_id)
    record = view.record
    if expected_version is not None and expected_version != record.version:
        raise VersionMismatch(f"The customer record is at version {record.version}, not {expected_version}.")
    if "name" in changes and changes["name"] is None and record.user_id is None:
        raise ValidationFailed.on("body.name", "required", "A customer without an account needs a name.")
    await repository.change(session, record, changes)
    await _audit(session, ctx, "customer.updated", record.id, sorted(changes))
    return CustomerView(record, view.account_name, view.account_phone)


async def search(
    session: AsyncSession, ctx: BusinessContext, search: Search
) -> tuple[list[CustomerView], str | None]:
    """Records, newest first, found
    by any part of a name, number or e-mail folded as `names.fold` does (Arabic spellings
    merged), or by a tag."""
    stmt = _viewed().where(CustomerRecord.business_id == ctx.business_id)
    if search.query:
        key = names.query_key(search.query)
        if key:
            pattern = "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            # A linked record without its own name or number is found by its account's.
            account_key = (
                names.sql_fold(func.coalesce(User.full_name, ""))
                + " "
                + _home_and_e164(User.phone.expression)
            )
            stmt = stmt.where(
                or_(
                    CustomerRecord.search_key.like(pattern),
                    and_(CustomerRecord.user_id.is_not(None), account_key.like(pattern)),
                )
            )
    if search.tag:
        stmt = stmt.where(CustomerRecord.tags.contains([search.tag]))
    rows, next_cursor = await fetch_rows_page(
        session,
        stmt,
        order_by=[CustomerRecord.created_at, CustomerRecord.id],
        cursor=search.cursor,
        limit=search.limit,
        descending=True,
    )
    return [CustomerView(*row) for row in rows], next_cursor


def _home_and_e164(phone: ColumnElement[str | None]) -> ColumnElement[str | None]:
    home = case((phone.startswith("+20"), "0" + func.substr(phone, 4)), else_="")
    return func.coalesce(phone, "") + " " + home


async def for_booking(session: AsyncSession, ctx: BusinessContext, record_id: uuid.UUID) -> BookedAs:
    """Whom staff book when they pick a record. A walk-in's record whose number an account
    has proven since becomes that account's first (if the account has no record here), so
    the booking is theirs: they see it and get its messages."""
    view = await get(session, ctx, record_id)
    record = view.record
    if record.user_id is None and record.phone is not None:
        holder = await accounts.get_user_by_phone(session, record.phone)
        if holder is not None and await _unrecorded(session, ctx.business_id, holder.id):
            await repository.link(session, record, holder.id)
    return BookedAs(record.id, record.user_id, view.name)


async def _unrecorded(session: AsyncSession, business_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    stmt = select(CustomerRecord.id).where(
        CustomerRecord.business_id == business_id, CustomerRecord.user_id == user_id
    )
    return (await session.execute(stmt)).first() is None


async def _audit(
    session: AsyncSession, ctx: BusinessContext, action: str, record_id: uuid.UUID, fields: list[str]
) -> None:
    # The fields' names only: what staff write about a person stays in the record, where
    # deleting the account erases it.
    await audit.record(
        session,
        ctx.business_id,
        ctx.actor.user_id,
        action,
        subject=("customer", record_id),
        details={"fields": fields},
    )
