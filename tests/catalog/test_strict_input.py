"""Money, counts and flags of input bodies take JSON numbers and booleans only, and dates
take ISO text within the supported years (2000..2199): anything else is a 422 naming the
field, where pydantic's lax mode converted it (`"100"` -> 100, `true` -> 1, `"no"` ->
False, 1798761600 -> 2027-01-01) without a word."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from catalog_support import Biz, add_service, add_staff_member, issues
from sqlalchemy.ext.asyncio import AsyncEngine

from support import sign_up, sign_up_admin


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"price_minor": "100"}, ("body.price_minor", "int_type")),
        ({"price_minor": True}, ("body.price_minor", "int_type")),
        ({"price_minor": 100.0}, ("body.price_minor", "int_type")),
        ({"duration_options_minutes": ["30"]}, ("body.duration_options_minutes.0", "int_type")),
        ({"duration_options_minutes": [30, True]}, ("body.duration_options_minutes.1", "int_type")),
        ({"buffer_before_minutes": "5"}, ("body.buffer_before_minutes", "int_type")),
        ({"buffer_after_minutes": False}, ("body.buffer_after_minutes", "int_type")),
        ({"capacity": "1"}, ("body.capacity", "int_type")),
        ({"capacity": True}, ("body.capacity", "int_type")),
        ({"active": "false"}, ("body.active", "bool_type")),
        ({"active": 0}, ("body.active", "bool_type")),
    ],
)
async def test_service_numbers_and_flags_are_strictly_typed(
    client: httpx.AsyncClient, biz: Biz, changes: dict[str, Any], expected: tuple[str, str]
) -> None:
    body = {"name": "Haircut", "price_minor": 15000, **changes}
    response = await client.post(f"{biz.url}/services", headers=biz.owner.headers, json=body)
    assert issues(response) == [expected]


async def test_json_numbers_are_still_accepted_and_a_patch_is_strict_too(
    client: httpx.AsyncClient, biz: Biz
) -> None:
    service = await add_service(
        client, biz, price_minor=100, duration_options_minutes=[30], buffer_before_minutes=5, active=False
    )
    assert (service["price_minor"], service["buffer_before_minutes"], service["active"]) == (100, 5, False)
    url = f"{biz.url}/services/{service['id']}"
    for body, expected in (
        ({"price_minor": "200"}, ("body.price_minor", "int_type")),
        ({"capacity": True}, ("body.capacity", "int_type")),
        ({"active": "yes"}, ("body.active", "bool_type")),
    ):
        assert issues(await client.patch(url, headers=biz.owner.headers, json=body)) == [expected]
    fetched = (await client.get(url, headers=biz.owner.headers)).json()
    assert (fetched["price_minor"], fetched["active"]) == (100, False)


async def test_staff_and_resource_flags_are_booleans(client: httpx.AsyncClient, biz: Biz) -> None:
    created = await client.post(
        f"{biz.url}/staff", headers=biz.owner.headers, json={"display_name": "K", "active": 1}
    )
    assert issues(created) == [("body.active", "bool_type")]
    karim = await add_staff_member(client, biz)
    patched = await client.patch(
        f"{biz.url}/staff/{karim['id']}", headers=biz.owner.headers, json={"active": "false"}
    )
    assert issues(patched) == [("body.active", "bool_type")]
    resource = await client.post(
        f"{biz.url}/resources", headers=biz.owner.headers, json={"name": "C", "kind": "chair", "active": "on"}
    )
    assert issues(resource) == [("body.active", "bool_type")]


@pytest.mark.parametrize(
    ("weekday", "rule"), [("0", "int_type"), (True, "int_type"), (1.0, "int_type"), (7, "less_than_equal")]
)
async def test_weekday_is_a_json_integer(
    client: httpx.AsyncClient, biz: Biz, weekday: object, rule: str
) -> None:
    week = {"hours": [{"weekday": weekday, "start": "09:00", "end": "17:00"}]}
    response = await client.put(f"{biz.url}/weekly-schedule", headers=biz.owner.headers, json=week)
    assert issues(response) == [("body.hours.0.weekday", rule)]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"date": "1999-12-31", "closed": True}, ("body.date", "greater_than_equal")),
        ({"date": "2200-01-01", "closed": True}, ("body.date", "less_than_equal")),
        ({"date": "0001-01-01", "closed": True}, ("body.date", "greater_than_equal")),
        ({"date": "9999-12-31", "closed": True}, ("body.date", "less_than_equal")),
        # Unix time, read by pydantic's lax date as 2027-01-01.
        ({"date": 1798761600, "closed": True}, ("body.date", "date_type")),
        ({"date": "1798761600", "closed": True}, ("body.date", "date_type")),
        ({"date": "2027-01-01", "closed": "true"}, ("body.closed", "bool_type")),
    ],
)
async def test_date_override_dates_are_iso_and_bounded(
    client: httpx.AsyncClient, biz: Biz, body: dict[str, Any], expected: tuple[str, str]
) -> None:
    response = await client.post(f"{biz.url}/date-overrides", headers=biz.owner.headers, json=body)
    assert issues(response) == [expected]


async def test_date_override_query_dates_are_bounded(client: httpx.AsyncClient, biz: Biz) -> None:
    url = f"{biz.url}/date-overrides"
    for params, expected in (
        ({"from_date": "0001-01-01"}, ("query.from_date", "greater_than_equal")),
        ({"to_date": "9999-12-31"}, ("query.to_date", "less_than_equal")),
    ):
        response = await client.get(url, headers=biz.owner.headers, params=params)
        assert issues(response) == [expected]
    # Query parameters are text: a date in range is read as before.
    listed = await client.get(url, headers=biz.owner.headers, params={"from_date": "2027-01-01"})
    assert listed.status_code == 200, listed.text


async def test_time_off_instants_are_iso_text(client: httpx.AsyncClient, biz: Biz) -> None:
    karim = await add_staff_member(client, biz)
    url = f"{biz.url}/staff/{karim['id']}/time-off"
    body = {"starts_at": 1798761600, "ends_at": "2027-01-02T00:00:00Z"}
    assert issues(await client.post(url, headers=biz.owner.headers, json=body)) == [
        ("body.starts_at", "datetime_type")
    ]


async def test_business_rule_overrides_are_strict_integers(client: httpx.AsyncClient) -> None:
    owner = await sign_up(client)
    for value in ("30", True, 30.0):
        response = await client.post(
            "/v1/businesses",
            headers=owner.headers,
            json={
                "name": "A",
                "slug": "strict-a",
                "business_type": "barbershop",
                "rule_overrides": {"horizon_days": value},
            },
        )
        assert issues(response) == [("body.rule_overrides.horizon_days", "wrong_type")], value


async def test_business_type_admin_input_is_strictly_typed(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    admin = await sign_up_admin(client, owner_engine)
    definition: dict[str, Any] = {
        "key": "strict-clinic",
        "name": "Strict clinic",
        "mode": "appointment",
        "slot_grid_minutes": 30,
        "default_durations_minutes": [60],
        "horizon_days": 30,
        "cancellation_window_minutes": 120,
        "payment": {"policy": "pay_at_venue", "methods": [], "hold_minutes": {}},
    }
    for changes, field in (
        ({"horizon_days": "30"}, "body.horizon_days"),
        ({"slot_grid_minutes": True}, "body.slot_grid_minutes"),
        ({"min_notice_minutes": 60.0}, "body.min_notice_minutes"),
        ({"overridable": {"horizon_days": {"min": "1", "max": 60}}}, "body.overridable.horizon_days.min"),
    ):
        response = await client.post(
            "/v1/business-types", headers=admin.headers, json={**definition, **changes}
        )
        assert response.status_code == 422, response.text
        assert (field, "int_type") in issues(response), response.text
    created = await client.post("/v1/business-types", headers=admin.headers, json=definition)
    assert created.status_code == 201, created.text
