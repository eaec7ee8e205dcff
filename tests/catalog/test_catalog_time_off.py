"""Time off of staff members and resources: absolute instants, owners and self-service."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from catalog_support import Biz, Shop, add_resource, add_staff_member, issues, open_biz, open_shop

LEAVE = {
    "starts_at": "2026-12-24T09:00:00+02:00",
    "ends_at": "2026-12-26T09:00:00+02:00",
    "reason": "Holiday",
}


async def test_crud_for_a_staff_member_in_utc(client: httpx.AsyncClient, biz: Biz) -> None:
    karim = await add_staff_member(client, biz)
    url = f"{biz.url}/staff/{karim['id']}/time-off"
    created = await client.post(url, headers=biz.owner.headers, json=LEAVE)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["starts_at"], body["ends_at"], body["reason"]) == (
        "2026-12-24T07:00:00Z",
        "2026-12-26T07:00:00Z",
        "Holiday",
    )
    one = f"{url}/{body['id']}"
    assert (await client.get(one, headers=biz.owner.headers)).json() == body
    moved = await client.put(
        one, headers=biz.owner.headers, json={**LEAVE, "ends_at": "2026-12-27T00:00:00Z"}
    )
    assert moved.json()["ends_at"] == "2026-12-27T00:00:00Z"
    assert (await client.delete(one, headers=biz.owner.headers)).status_code == 204
    assert (await client.get(one, headers=biz.owner.headers)).json()["code"] == "time_off_not_found"


async def test_list_is_paginated_by_start(client: httpx.AsyncClient, biz: Biz) -> None:
    chair = await add_resource(client, biz)
    url = f"{biz.url}/resources/{chair['id']}/time-off"
    for day in (20, 10, 15):
        period = {"starts_at": f"2026-12-{day}T08:00:00Z", "ends_at": f"2026-12-{day}T18:00:00Z"}
        assert (await client.post(url, headers=biz.owner.headers, json=period)).status_code == 201
    first = (await client.get(url, headers=biz.owner.headers, params={"limit": 2})).json()
    rest = (await client.get(url, headers=biz.owner.headers, params={"cursor": first["next_cursor"]})).json()
    starts = [t["starts_at"][:10] for t in first["items"] + rest["items"]]
    assert (starts, rest["next_cursor"]) == (["2026-12-10", "2026-12-15", "2026-12-20"], None)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"starts_at": "2026-12-24T09:00:00"}, [("body.starts_at", "timezone_aware")]),
        ({"ends_at": "2026-12-24T08:00:00+02:00"}, [("body.ends_at", "end_not_after_start")]),
        ({"ends_at": "2026-12-24T07:00:00Z"}, [("body.ends_at", "end_not_after_start")]),  # same instant
    ],
)
async def test_invalid_period_is_422(
    client: httpx.AsyncClient, biz: Biz, change: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    karim = await add_staff_member(client, biz)
    response = await client.post(
        f"{biz.url}/staff/{karim['id']}/time-off", headers=biz.owner.headers, json={**LEAVE, **change}
    )
    assert issues(response) == expected


async def test_staff_manage_their_own_time_off_only(client: httpx.AsyncClient) -> None:
    shop: Shop = await open_shop(client)
    me = await add_staff_member(client, shop, user_id=str(shop.staff.user_id))
    colleague, chair = (
        await add_staff_member(client, shop, display_name="Colleague"),
        await add_resource(client, shop),
    )
    mine = f"{shop.url}/staff/{me['id']}/time-off"
    created = await client.post(mine, headers=shop.staff.headers, json=LEAVE)
    assert created.status_code == 201
    assert (
        await client.delete(f"{mine}/{created.json()['id']}", headers=shop.staff.headers)
    ).status_code == 204
    for other in (f"/staff/{colleague['id']}", f"/resources/{chair['id']}"):
        refused = await client.post(f"{shop.url}{other}/time-off", headers=shop.staff.headers, json=LEAVE)
        assert refused.status_code == 403
        assert (
            await client.get(f"{shop.url}{other}/time-off", headers=shop.staff.headers)
        ).status_code == 200
    assert (await client.get(mine, headers=shop.customer.headers)).status_code == 403


async def test_another_tenants_time_off_is_not_found(client: httpx.AsyncClient, biz: Biz) -> None:
    mine = await add_staff_member(client, biz)
    other = await open_biz(client)
    theirs = await add_staff_member(client, other)
    their_leave = await client.post(
        f"{other.url}/staff/{theirs['id']}/time-off", headers=other.owner.headers, json=LEAVE
    )
    leave_id = their_leave.json()["id"]
    for path in (f"/staff/{theirs['id']}/time-off/{leave_id}", f"/staff/{mine['id']}/time-off/{leave_id}"):
        assert (await client.get(f"{biz.url}{path}", headers=biz.owner.headers)).status_code == 404
        assert (await client.delete(f"{biz.url}{path}", headers=biz.owner.headers)).status_code == 404
