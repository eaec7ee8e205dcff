"""The writer of `customer_record`, and the reads of it.

Records of accounts are written as part of the booking that makes the account a customer
(`ACCOUNT_RECORD`, two CTEs the booking's own insert carries, so a booking costs no extra
round trip): the first booking of an account in a business records it, or links the walk-in
record of its proven number if staff made one.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.customers import names
from booklnk.customers.errors import CustomerExists
from booklnk.customers.models import CustomerRecord

# Parameters: business_id, customer_id (an account, or NULL for a guest: then both are
# no-ops), new_record_id (the id a new record takes), changed_at. The account's
# number is read from app_user here (a proven one only is ever stored there). A sibling CTE
# cannot see the other's writes: the link runs only when no record of the account exists,
# the insert only when neither the account nor its number has one; two first bookings at
# once meet on the unique indexes, and ON CONFLICT DO NOTHING keeps the first.
ACCOUNT_RECORD = """
    record_linked AS (
        UPDATE customer_record SET user_id = CAST(:customer_id AS uuid), updated_at = :changed_at,
               version = version + 1
        WHERE business_id = CAST(:business_id AS uuid) AND user_id IS NULL
          AND phone = (SELECT phone FROM app_user WHERE id = CAST(:customer_id AS uuid))
          AND NOT EXISTS (SELECT 1 FROM customer_record WHERE business_id = CAST(:business_id AS uuid)
                                                        AND user_id = CAST(:customer_id AS uuid))
        RETURNING id
    ),
    record_added AS (
        INSERT INTO customer_record (business_id, id, user_id, created_at, updated_at)
        SELECT CAST(:business_id AS uuid), CAST(:new_record_id AS uuid), CAST(:customer_id AS uuid),
               :changed_at, :changed_at
        WHERE CAST(:customer_id AS uuid) IS NOT NULL
          AND NOT EXISTS (
              SELECT 1 FROM customer_record
              WHERE business_id = CAST(:business_id AS uuid)
                AND (user_id = CAST(:customer_id AS uuid)
                     OR phone = (SELECT phone FROM app_user WHERE id = CAST(:customer_id AS uuid))))
        ON CONFLICT DO NOTHING
        RETURNING id
    )
"""


async def add(session: AsyncSession, business_id: uuid.UUID, fields: dict[str, Any]) -> CustomerRecord:
    """Insert a staff-made record (`fields`: name, phone, email, notes, tags,
    marketing_consent); CustomerExists when its number has one in this business."""
    key = names.search_key(fields.get("name"), fields.get("phone"), fields.get("email"))
    stmt = (
        insert(CustomerRecord)
        .values(business_id=business_id, id=uuid.uuid4(), search_key=key, **fields)
        .on_conflict_do_nothing()
        .returning(CustomerRecord)
    )
    record = (await session.execute(stmt)).scalar_one_or_none()
    if record is None:
        raise await _exists(session, business_id, fields.get("phone"))
    return record


async def change(session: AsyncSession, record: CustomerRecord, changes: dict[str, Any]) -> CustomerRecord:
    """Apply staff's edits (the version compared by the caller) and bump the version."""
    for name, value in changes.items():
        setattr(record, name, value)
    record.search_key = names.search_key(record.name, record.phone, record.email)
    record.version += 1
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        await session.refresh(record)
        raise await _exists(session, record.business_id, changes.get("phone")) from None
    return record


async def link(session: AsyncSession, record: CustomerRecord, user_id: uuid.UUID) -> None:
    """A walk-in's record becomes the account's (its number was proven by that account)."""
    await session.execute(
        update(CustomerRecord)
        .where(CustomerRecord.business_id == record.business_id, CustomerRecord.id == record.id)
        .values(user_id=user_id, version=CustomerRecord.version + 1, updated_at=func.now())
    )
    await session.refresh(record)


async def _exists(session: AsyncSession, business_id: uuid.UUID, phone: str | None) -> CustomerExists:
    holder = await by_phone(session, business_id, phone) if phone else None
    extra = {"customer_id": str(holder.id)} if holder is not None else {}
    return CustomerExists("This business has a customer with this number already.", extra=extra)


async def get(session: AsyncSession, business_id: uuid.UUID, record_id: uuid.UUID) -> CustomerRecord | None:
    stmt = select(CustomerRecord).where(
        CustomerRecord.business_id == business_id, CustomerRecord.id == record_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def by_phone(session: AsyncSession, business_id: uuid.UUID, phone: str) -> CustomerRecord | None:
    stmt = select(CustomerRecord).where(
        CustomerRecord.business_id == business_id, CustomerRecord.phone == phone
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def forget_account(session: AsyncSession, business_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """A deleted account's record in this business keeps its link (the history counts) and
    loses everything staff wrote about the person."""
    await session.execute(
        update(CustomerRecord)
        .where(CustomerRecord.business_id == business_id, CustomerRecord.user_id == user_id)
        .values(
            name=None,
            phone=None,
            email=None,
            notes="",
            tags=[],
            marketing_consent=False,
            search_key="",
            version=CustomerRecord.version + 1,
            updated_at=func.now(),
        )
    )
