"""Row-level security: the database itself keeps tenants apart, behind the app's checks."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.db.database import Database
from booklnk.tables import metadata
from support import add_staff, create_business, sign_up

# payment_order maps an order id to its business for webhooks, which arrive without a
# tenant: it names a business but holds nothing of it.
ROUTING_TABLES = {"payment_order"}
# A business's messages, and the platform's (about accounts, no business) beside them: each
# visible in its tenant's transactions only, the platform's outside every tenant.
SHARED_WITH_PLATFORM = {"outbox_message", "message_attempt", "delivery_report"}
TENANT_TABLES = sorted(
    t.name for t in metadata.sorted_tables if "business_id" in t.columns and t.name not in ROUTING_TABLES
)


async def test_every_tenant_table_has_forced_rls(owner_engine: AsyncEngine) -> None:
    assert TENANT_TABLES, "no tenant tables found"
    async with owner_engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                    "WHERE relname = ANY(:names) AND relkind = 'r'"
                ),
                {"names": TENANT_TABLES},
            )
        ).all()
        policies = set(
            (
                await conn.execute(
                    text(
                        "SELECT tablename FROM pg_policies"
                        " WHERE policyname IN ('tenant_isolation', 'tenant_or_platform')"
                    )
                )
            ).scalars()
        )
    assert {r.relname for r in rows} == set(TENANT_TABLES)
    assert all(r.relrowsecurity and r.relforcerowsecurity for r in rows), rows
    assert set(TENANT_TABLES) <= policies


async def test_app_role_is_neither_superuser_nor_owner_nor_bypassing(owner_engine: AsyncEngine) -> None:
    async with owner_engine.connect() as conn:
        role = (
            await conn.execute(
                text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'booklnk_app'")
            )
        ).one()
        owned = (
            await conn.execute(text("SELECT count(*) FROM pg_tables WHERE tableowner = 'booklnk_app'"))
        ).scalar_one()
    assert not role.rolsuper
    assert not role.rolbypassrls
    assert owned == 0


async def _tenant_rows(db: Database, tenant: uuid.UUID | None, table: str) -> list[uuid.UUID]:
    """Read a whole table with no WHERE clause, as a buggy query would."""
    async with db.transaction(tenant_id=tenant) as session:
        return list((await session.execute(text(f"SELECT business_id FROM {table}"))).scalars())


async def test_unfiltered_query_sees_only_its_tenant(client: httpx.AsyncClient, db: Database) -> None:
    owner_a, owner_b, staff = (
        await sign_up(client, "a"),
        await sign_up(client, "b"),
        await sign_up(client, "s"),
    )
    shop_a, shop_b = await create_business(client, owner_a), await create_business(client, owner_b)
    await add_staff(client, owner_b, shop_b, staff)
    for shop, owner in ((shop_a, owner_a), (shop_b, owner_b)):
        invite = await client.post(
            f"/v1/businesses/{shop}/invitations", headers=owner.headers, json={"email": "x@example.com"}
        )
        assert invite.status_code == 201

    for table in ("membership", "invitation"):
        assert set(await _tenant_rows(db, shop_a, table)) == {shop_a}
        assert set(await _tenant_rows(db, shop_b, table)) == {shop_b}
        assert await _tenant_rows(db, None, table) == []


async def test_writing_into_another_tenant_is_refused_by_postgres(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner_a, owner_b = await sign_up(client, "a"), await sign_up(client, "b")
    shop_a, shop_b = await create_business(client, owner_a), await create_business(client, owner_b)
    with pytest.raises(Exception, match="row-level security"):
        async with db.transaction(tenant_id=shop_a) as session:
            await session.execute(
                text("INSERT INTO membership (business_id, user_id, role) VALUES (:b, :u, 'owner')"),
                {"b": shop_b, "u": owner_a.user_id},
            )
    async with db.transaction(tenant_id=shop_a) as session:
        updated = await session.execute(
            text("UPDATE business SET name = 'pwned' WHERE id = :b"), {"b": shop_b}
        )
        assert updated.rowcount == 0  # type: ignore[attr-defined]


async def test_foreign_tenant_ids_under_own_business_path_are_404(client: httpx.AsyncClient) -> None:
    owner_a, owner_b = await sign_up(client, "a"), await sign_up(client, "b")
    shop_a, shop_b = await create_business(client, owner_a), await create_business(client, owner_b)
    invite_b = await client.post(
        f"/v1/businesses/{shop_b}/invitations", headers=owner_b.headers, json={"email": "y@example.com"}
    )
    foreign = invite_b.json()["id"]
    response = await client.delete(f"/v1/businesses/{shop_a}/invitations/{foreign}", headers=owner_a.headers)
    assert response.status_code == 404
    response = await client.delete(
        f"/v1/businesses/{shop_a}/members/{owner_b.user_id}", headers=owner_a.headers
    )
    assert response.status_code == 404


async def test_tenant_policies_say_what_they_should(owner_engine: AsyncEngine) -> None:
    """Not just present: each policy's expression is the tenant check (a `USING (true)`
    slipped into a migration would fail here)."""
    async with owner_engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT tablename, policyname, cmd, qual, with_check"
                    " FROM pg_policies WHERE schemaname = 'public'"
                )
            )
        ).all()
    tenant_check = "(business_id = booklnk_current_tenant())"
    for row in rows:
        if row.policyname == "tenant_isolation":
            assert (row.qual, row.with_check) == (tenant_check, tenant_check), row
    extra = {(r.tablename, r.policyname, r.cmd, r.qual) for r in rows if r.policyname != "tenant_isolation"}
    assert extra == {
        ("business", "business_read", "SELECT", "true"),
        ("business", "business_write", "INSERT", None),
        ("business", "business_update", "UPDATE", "(id = booklnk_current_tenant())"),
        ("business", "business_delete", "DELETE", "(id = booklnk_current_tenant())"),
        ("membership", "membership_own_read", "SELECT", "(user_id = booklnk_current_user())"),
        ("booking", "booking_own_read", "SELECT", "(customer_id = booklnk_current_user())"),
        ("waitlist_entry", "waitlist_entry_own_read", "SELECT", "(customer_id = booklnk_current_user())"),
        *(
            (
                table,
                "tenant_or_platform",
                "ALL",
                "(NOT (business_id IS DISTINCT FROM booklnk_current_tenant()))",
            )
            for table in SHARED_WITH_PLATFORM
        ),
    }


@pytest.fixture
async def app_login_url(database_url: str, owner_engine: AsyncEngine) -> AsyncIterator[str]:
    """A separate LOGIN role, member of the app role only (BOOKLNK_APP_DATABASE_URL)."""
    role = f"booklnk_login_{uuid.uuid4().hex[:8]}"
    async with owner_engine.begin() as conn:
        await conn.execute(text(f"CREATE ROLE {role} LOGIN IN ROLE booklnk_app"))
    yield make_url(database_url).set(username=role, password=None).render_as_string(hide_password=False)
    async with owner_engine.begin() as conn:
        await conn.execute(text(f"DROP ROLE {role}"))


async def test_a_separate_app_login_keeps_rls_even_after_reset_role(
    client: httpx.AsyncClient, app_login_url: str
) -> None:
    owner_a, owner_b = await sign_up(client, "a"), await sign_up(client, "b")
    shop_a, shop_b = await create_business(client, owner_a), await create_business(client, owner_b)
    app_db = Database(app_login_url, app_role="booklnk_app", pool_size=1)
    try:
        async with app_db.transaction(tenant_id=shop_a) as session:
            # What an injected statement would try first: drop the switched-to role.
            await session.execute(text("RESET ROLE"))
            who = (
                await session.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
            ).scalar()
            members = set((await session.execute(text("SELECT business_id FROM membership"))).scalars())
        assert who is False
        assert members == {shop_a}
        assert shop_b not in members
    finally:
        await app_db.dispose()
