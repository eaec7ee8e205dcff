"""The demo loads the three businesses with their catalogs, once, however often it runs."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.db.database import Database
from booklnk.demo.loader import DEMO_PASSWORD, load_demo
from booklnk.tenancy.credentials import Passwords

BUSINESSES = text("SELECT id, slug, business_type_key, time_zone FROM business ORDER BY slug")
CATALOG = ("staff_member", "service", "resource")


async def _counts(engine: AsyncEngine) -> list[tuple[object, ...]]:
    """Each business with its staff, services and resources counted (one count a table,
    not a subquery a business: Citus does not correlate a reference table with its shards)."""
    async with engine.connect() as conn:
        businesses = (await conn.execute(BUSINESSES)).all()
        counted = [
            dict((await conn.execute(text(f"SELECT business_id, count(*) FROM {t} GROUP BY 1"))).all())
            for t in CATALOG
        ]
    return [(slug, kind, zone, *(n.get(id_, 0) for n in counted)) for id_, slug, kind, zone in businesses]


async def test_demo_is_complete_and_idempotent(
    db: Database, passwords: Passwords, owner_engine: AsyncEngine
) -> None:
    logins = await load_demo(db, passwords)
    first = await _counts(owner_engine)
    assert first == [
        ("cairo-cuts", "barbershop", "Africa/Cairo", 3, 3, 3),
        ("nile-advisory", "consultant", "Africa/Cairo", 1, 1, 0),
        ("zamalek-fit", "gym", "Africa/Cairo", 2, 3, 1),
    ]
    assert await load_demo(db, passwords) == logins
    assert await _counts(owner_engine) == first


async def test_demo_logins_work_and_show_the_catalog(
    db: Database, passwords: Passwords, client: httpx.AsyncClient
) -> None:
    await load_demo(db, passwords)
    login = await client.post(
        "/v1/auth/login", json={"email": "owner@nile-advisory.demo", "password": DEMO_PASSWORD}
    )
    assert login.status_code == 200
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    me = (await client.get("/v1/me", headers=headers)).json()
    (membership,) = me["memberships"]
    services = await client.get(f"/v1/businesses/{membership['business_id']}/services", headers=headers)
    assert services.status_code == 200
    (consult,) = services.json()["items"]
    assert consult["duration_options_minutes"] == [30, 60]
    intake = (await client.get("/v1/business-types/consultant")).json()["booking_fields"]
    assert intake["required"] == ["topic"]
