"""Business types over HTTP: listing, adding one by configuration or by a platform admin,
and per-business overrides within the type's bounds."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.bootstrap import load_business_types
from booklnk.config import Settings
from booklnk.db.database import Database
from support import create_business, sign_up, sign_up_admin

CLINIC_TOML = """
key = "clinic"
name = "Clinic"
mode = "appointment"
slot_grid_minutes = 10
default_durations_minutes = [20, 40]
buffer_after_minutes = 10
min_notice_minutes = 120
horizon_days = 60
cancellation_window_minutes = 1440

[payment]
policy = "prepay"
methods = ["card", "fawry"]
[payment.hold_minutes]
card = 15
fawry = 720

[booking_fields]
type = "object"
required = ["symptoms"]
additionalProperties = false
[booking_fields.properties.symptoms]
type = "string"
maxLength = 500
"""


def appointment_type(key: str, name: str, **changes: object) -> dict[str, object]:
    """A complete appointment-mode definition as an admin would POST it."""
    return {
        "key": key,
        "name": name,
        "mode": "appointment",
        "slot_grid_minutes": 30,
        "default_durations_minutes": [60],
        "buffer_before_minutes": 0,
        "buffer_after_minutes": 0,
        "min_notice_minutes": 60,
        "horizon_days": 30,
        "cancellation_window_minutes": 120,
        "payment": {"policy": "pay_at_venue", "methods": [], "hold_minutes": {}},
        **changes,
    }


async def test_builtin_types_are_listed_with_their_rules(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/business-types")
    assert response.status_code == 200
    types = {t["key"]: t for t in response.json()["items"]}
    assert {"barbershop", "gym", "consultant"} <= types.keys()
    assert types["gym"]["mode"] == "class"
    assert types["consultant"]["payment"]["policy"] == "deposit"
    assert "topic" in types["consultant"]["booking_fields"]["properties"]


async def test_a_fourth_type_from_a_configured_folder_needs_no_code(
    client: httpx.AsyncClient, db: Database, settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "clinic.toml").write_text(CLINIC_TOML)
    await load_business_types(db, settings.model_copy(update={"business_types_dir": tmp_path}))

    clinic = await client.get("/v1/business-types/clinic")
    assert clinic.status_code == 200
    assert clinic.json()["slot_grid_minutes"] == 10
    owner = await sign_up(client, "doctor")
    business_id = await create_business(client, owner, business_type="clinic")
    business = await client.get(f"/v1/businesses/{business_id}", headers=owner.headers)
    assert business.json()["business_type"] == "clinic"


async def test_platform_admin_adds_a_type_through_the_api(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    admin = await sign_up_admin(client, owner_engine)
    tutor = appointment_type("tutor", "Tutor")
    created = await client.post("/v1/business-types", headers=admin.headers, json=tutor)
    assert created.status_code == 201, created.text
    again = await client.post("/v1/business-types", headers=admin.headers, json=tutor)
    assert again.status_code == 409
    owner = await sign_up(client, "teacher")
    await create_business(client, owner, business_type="tutor")


async def test_invalid_definition_from_admin_names_the_field(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    admin = await sign_up_admin(client, owner_engine)
    bad = appointment_type("odd", "Odd", slot_grid_minutes=7, default_durations_minutes=[30])
    response = await client.post("/v1/business-types", headers=admin.headers, json=bad)
    assert response.status_code == 422
    assert "body.slot_grid_minutes" in {e["field"] for e in response.json()["errors"]}


async def test_business_overrides_within_bounds_only(client: httpx.AsyncClient) -> None:
    owner = await sign_up(client)
    ok = await client.post(
        "/v1/businesses",
        headers=owner.headers,
        json={
            "name": "A",
            "slug": "cuts-a",
            "business_type": "barbershop",
            "rule_overrides": {"min_notice_minutes": 30},
        },
    )
    assert ok.status_code == 201, ok.text
    out_of_bounds = await client.patch(
        f"/v1/businesses/{ok.json()['id']}",
        headers=owner.headers,
        json={"rule_overrides": {"min_notice_minutes": 100000}},
    )
    assert out_of_bounds.status_code == 422
    assert out_of_bounds.json()["errors"][0]["field"] == "body.rule_overrides.min_notice_minutes"
    fixed = await client.patch(
        f"/v1/businesses/{ok.json()['id']}",
        headers=owner.headers,
        json={"rule_overrides": {"slot_grid_minutes": 5}},
    )
    assert fixed.status_code == 422
    assert fixed.json()["errors"][0]["rule"] == "not_overridable"


async def test_files_never_overwrite_an_admin_created_type(
    client: httpx.AsyncClient, db: Database, settings: Settings, owner_engine: AsyncEngine, tmp_path: Path
) -> None:
    admin = await sign_up_admin(client, owner_engine)
    clinic = appointment_type("clinic", "Admin's clinic")
    assert (await client.post("/v1/business-types", headers=admin.headers, json=clinic)).status_code == 201
    (tmp_path / "clinic.toml").write_text(CLINIC_TOML)
    await load_business_types(db, settings.model_copy(update={"business_types_dir": tmp_path}))
    assert (await client.get("/v1/business-types/clinic")).json()["name"] == "Admin's clinic"
