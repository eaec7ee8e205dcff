"""Below the application: PostgreSQL itself keeps each tenant's catalog apart."""

from __future__ import annotations

import uuid

import httpx
import pytest
from catalog_support import add_service, add_staff_member, open_biz
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.db.database import Database


async def test_a_row_cannot_reference_another_tenants_row(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    """Composite foreign keys: even the privileged role cannot link A's service to B's staff."""
    a, b = await open_biz(client), await open_biz(client)
    service, stranger = await add_service(client, a), await add_staff_member(client, b)
    with pytest.raises(IntegrityError, match="fk_service_staff_business_id_staff_id_staff_member"):
        async with owner_engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO service_staff (business_id, service_id, staff_id) VALUES (:b, :s, :t)"),
                {"b": a.business_id, "s": service["id"], "t": stranger["id"]},
            )


async def test_the_app_role_sees_and_writes_only_its_tenant(client: httpx.AsyncClient, db: Database) -> None:
    a, b = await open_biz(client), await open_biz(client)
    await add_service(client, a, name="A's cut")
    await add_service(client, b, name="B's cut")
    async with db.transaction(user_id=a.owner.user_id, tenant_id=a.business_id) as session:
        names = (await session.execute(text("SELECT name FROM service"))).scalars().all()
        assert names == ["A's cut"]  # no WHERE clause: row-level security filtered B out
    with pytest.raises(DBAPIError, match="row-level security"):
        async with db.transaction(user_id=a.owner.user_id, tenant_id=a.business_id) as session:
            await session.execute(
                text(
                    "INSERT INTO resource (business_id, id, name, kind, active)"
                    " VALUES (:b, :id, 'x', 'room', true)"
                ),
                {"b": b.business_id, "id": uuid.uuid4()},
            )
