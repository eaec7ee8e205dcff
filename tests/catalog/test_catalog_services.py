"""Services: CRUD, the rules they must follow, who may do what, and tenant walls."""

from __future__ import annotations

import httpx
import pytest
from catalog_support import Biz, Shop, add_service, add_staff_member, issues, open_biz


async def test_owner_creates_a_service_with_type_defaults(client: httpx.AsyncClient, biz: Biz) -> None:
    karim = await add_staff_member(client, biz)
    created = await add_service(client, biz, staff_ids=[karim["id"]], required_resource_kinds=["chair"])
    assert created["duration_options_minutes"] == [30, 45, 60]  # the barbershop type's defaults
    assert created["currency"] == "EGP"
    assert created["capacity"] == 1
    assert created["buffer_before_minutes"] is None
    assert created["staff_ids"] == [karim["id"]]
    assert created["active"] is True
    fetched = await client.get(f"{biz.url}/services/{created['id']}", headers=biz.owner.headers)
    assert fetched.status_code == 200
    assert fetched.json() == created


async def test_patch_changes_only_what_is_sent_and_null_resets_to_default(
    client: httpx.AsyncClient, biz: Biz
) -> None:
    service = await add_service(client, biz, buffer_after_minutes=10, duration_options_minutes=[15, 30])
    url = f"{biz.url}/services/{service['id']}"
    patched = await client.patch(
        url, headers=biz.owner.headers, json={"price_minor": 20000, "buffer_after_minutes": None}
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["price_minor"], body["buffer_after_minutes"]) == (20000, None)
    assert (body["name"], body["duration_options_minutes"]) == ("Haircut", [15, 30])


async def test_patch_refuses_null_for_required_fields(client: httpx.AsyncClient, biz: Biz) -> None:
    service = await add_service(client, biz)
    response = await client.patch(
        f"{biz.url}/services/{service['id']}", headers=biz.owner.headers, json={"name": None}
    )
    assert issues(response) == [("body.name", "not_nullable")]


async def test_delete_deactivates_and_hides_from_customers(client: httpx.AsyncClient, shop: Shop) -> None:
    service = await add_service(client, shop)
    url = f"{shop.url}/services/{service['id']}"
    assert (await client.delete(url, headers=shop.owner.headers)).status_code == 204
    assert (await client.get(url, headers=shop.customer.headers)).status_code == 404
    as_owner = await client.get(url, headers=shop.owner.headers)
    assert as_owner.json()["active"] is False
    listed = await client.get(f"{shop.url}/services", headers=shop.customer.headers)
    assert listed.json()["items"] == []
    everything = await client.get(
        f"{shop.url}/services", headers=shop.staff.headers, params={"include_inactive": "true"}
    )
    assert [s["id"] for s in everything.json()["items"]] == [service["id"]]
    restored = await client.patch(url, headers=shop.owner.headers, json={"active": True})
    assert restored.json()["active"] is True


async def test_list_is_cursor_paginated_by_name(client: httpx.AsyncClient, biz: Biz) -> None:
    for name in ("Shave", "Beard trim", "Haircut"):
        await add_service(client, biz, name=name)
    names, cursor = [], None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await client.get(f"{biz.url}/services", headers=biz.owner.headers, params=params)).json()
        names += [s["name"] for s in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert names == ["Beard trim", "Haircut", "Shave"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"price_minor": -1}, [("body.price_minor", "greater_than_equal")]),
        ({"duration_options_minutes": [30, 40]}, [("body.duration_options_minutes.1", "off_grid")]),
        ({"duration_options_minutes": [0]}, [("body.duration_options_minutes.0", "off_grid")]),
        ({"currency": "USD"}, [("body.currency", "currency_mismatch")]),
        ({"capacity": 4}, [("body.capacity", "capacity_not_applicable")]),
        ({"buffer_before_minutes": -5}, [("body.buffer_before_minutes", "greater_than_equal")]),
        (
            {"required_resource_kinds": ["Chair!"]},
            [("body.required_resource_kinds.0", "string_pattern_mismatch")],
        ),
        (
            {"staff_ids": ["00000000-0000-0000-0000-000000000001"]},
            [("body.staff_ids.0", "unknown_staff")],
        ),
    ],
)
async def test_invalid_service_is_422_naming_field_and_rule(
    client: httpx.AsyncClient, biz: Biz, fields: dict[str, object], expected: list[tuple[str, str]]
) -> None:
    body = {"name": "Cut", "price_minor": 100, **fields}
    response = await client.post(f"{biz.url}/services", headers=biz.owner.headers, json=body)
    assert issues(response) == expected


async def test_every_problem_is_reported_at_once(client: httpx.AsyncClient, biz: Biz) -> None:
    body = {"name": "Cut", "price_minor": 1, "currency": "USD", "duration_options_minutes": [7]}
    response = await client.post(f"{biz.url}/services", headers=biz.owner.headers, json=body)
    assert sorted(issues(response)) == [
        ("body.currency", "currency_mismatch"),
        ("body.duration_options_minutes.0", "off_grid"),
    ]


async def test_class_business_capacity_defaults_from_the_type(client: httpx.AsyncClient) -> None:
    gym = await open_biz(client, "gym")
    spinning = await add_service(client, gym, name="Spinning", duration_options_minutes=[60])
    assert spinning["capacity"] == 20
    yoga = await add_service(client, gym, name="Yoga", capacity=12)
    assert yoga["capacity"] == 12


async def test_staff_of_another_business_is_unknown(client: httpx.AsyncClient, biz: Biz) -> None:
    other = await open_biz(client)
    stranger = await add_staff_member(client, other)
    body = {"name": "Cut", "price_minor": 100, "staff_ids": [stranger["id"]]}
    response = await client.post(f"{biz.url}/services", headers=biz.owner.headers, json=body)
    assert issues(response) == [("body.staff_ids.0", "unknown_staff")]


async def test_another_tenants_service_is_not_found_under_my_business(
    client: httpx.AsyncClient, biz: Biz
) -> None:
    other = await open_biz(client)
    theirs = await add_service(client, other)
    url = f"{biz.url}/services/{theirs['id']}"
    assert (await client.get(url, headers=biz.owner.headers)).status_code == 404
    patched = await client.patch(url, headers=biz.owner.headers, json={"price_minor": 1})
    assert patched.status_code == 404
    assert patched.json()["code"] == "service_not_found"
    assert (await client.delete(url, headers=biz.owner.headers)).status_code == 404


async def test_customers_and_staff_read_but_cannot_write(client: httpx.AsyncClient, shop: Shop) -> None:
    service = await add_service(client, shop)
    for account in (shop.customer, shop.staff):
        assert (await client.get(f"{shop.url}/services", headers=account.headers)).status_code == 200
        created = await client.post(
            f"{shop.url}/services", headers=account.headers, json={"name": "X", "price_minor": 1}
        )
        assert created.status_code == 403
        assert created.json()["code"] == "insufficient_role"
        url = f"{shop.url}/services/{service['id']}"
        assert (await client.patch(url, headers=account.headers, json={"name": "Y"})).status_code == 403
        assert (await client.delete(url, headers=account.headers)).status_code == 403
    assert (await client.get(f"{shop.url}/services")).status_code == 401
