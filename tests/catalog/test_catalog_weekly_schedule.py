"""Weekly hours and breaks, the same for the business, a staff member and a resource."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from catalog_support import Biz, Shop, add_resource, add_staff_member, issues, open_biz, open_shop

WEEK = {
    "hours": [
        {"weekday": 1, "start": "09:00", "end": "13:00"},
        {"weekday": 0, "start": "14:00", "end": "24:00"},
        {"weekday": 0, "start": "09:00", "end": "13:00"},
    ],
    "breaks": [{"weekday": 0, "start": "16:00", "end": "16:30"}],
}
SORTED_WEEK = {
    "hours": [
        {"start": "09:00", "end": "13:00", "weekday": 0},
        {"start": "14:00", "end": "24:00", "weekday": 0},
        {"start": "09:00", "end": "13:00", "weekday": 1},
    ],
    "breaks": [{"start": "16:00", "end": "16:30", "weekday": 0}],
}


async def _owner_paths(client: httpx.AsyncClient, biz: Biz) -> list[str]:
    staff, resource = await add_staff_member(client, biz), await add_resource(client, biz)
    return ["", f"/staff/{staff['id']}", f"/resources/{resource['id']}"]


async def test_put_then_get_for_every_owner_kind(client: httpx.AsyncClient, biz: Biz) -> None:
    for owner in await _owner_paths(client, biz):
        url = f"{biz.url}{owner}/weekly-schedule"
        assert (await client.get(url, headers=biz.owner.headers)).json() == {"hours": [], "breaks": []}
        put = await client.put(url, headers=biz.owner.headers, json=WEEK)
        assert (put.status_code, put.json()) == (200, SORTED_WEEK)
        assert (await client.get(url, headers=biz.owner.headers)).json() == SORTED_WEEK


async def test_owners_schedules_are_independent_and_put_replaces(client: httpx.AsyncClient, biz: Biz) -> None:
    business, staff, _ = await _owner_paths(client, biz)
    await client.put(f"{biz.url}{business}/weekly-schedule", headers=biz.owner.headers, json=WEEK)
    one_day = {"hours": [{"weekday": 5, "start": "10:00", "end": "12:00"}]}
    await client.put(f"{biz.url}{staff}/weekly-schedule", headers=biz.owner.headers, json=one_day)
    await client.put(f"{biz.url}{staff}/weekly-schedule", headers=biz.owner.headers, json=one_day)
    staff_week = (await client.get(f"{biz.url}{staff}/weekly-schedule", headers=biz.owner.headers)).json()
    assert staff_week == {"hours": [{"weekday": 5, "start": "10:00", "end": "12:00"}], "breaks": []}
    business_week = await client.get(f"{biz.url}{business}/weekly-schedule", headers=biz.owner.headers)
    assert business_week.json() == SORTED_WEEK


def _hours(*spans: tuple[int, str, str]) -> dict[str, Any]:
    return {"hours": [{"weekday": d, "start": s, "end": e} for d, s, e in spans]}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (_hours((0, "17:00", "09:00")), [("body.hours.0", "end_not_after_start")]),
        (
            _hours((0, "09:00", "12:00"), (2, "09:00", "10:00"), (0, "11:00", "13:00")),
            [("body.hours.2", "overlapping_hours")],
        ),
        (
            {**_hours((3, "09:00", "12:00")), "breaks": [{"weekday": 3, "start": "11:30", "end": "12:30"}]},
            [("body.breaks.0", "break_outside_hours")],
        ),
        (_hours((7, "09:00", "12:00")), [("body.hours.0.weekday", "less_than_equal")]),
        (_hours((0, "9:00", "12:00")), [("body.hours.0.start", "string_pattern_mismatch")]),
        (_hours((0, "24:00", "24:00")), [("body.hours.0", "end_not_after_start")]),
    ],
)
async def test_invalid_week_is_422_naming_the_interval(
    client: httpx.AsyncClient, biz: Biz, body: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    response = await client.put(f"{biz.url}/weekly-schedule", headers=biz.owner.headers, json=body)
    assert issues(response) == expected


async def test_staff_read_schedules_but_only_owners_write(client: httpx.AsyncClient) -> None:
    shop: Shop = await open_shop(client)
    url = f"{shop.url}/weekly-schedule"
    assert (await client.put(url, headers=shop.owner.headers, json=WEEK)).status_code == 200
    assert (await client.get(url, headers=shop.staff.headers)).json() == SORTED_WEEK
    assert (await client.put(url, headers=shop.staff.headers, json=WEEK)).status_code == 403
    assert (await client.get(url, headers=shop.customer.headers)).status_code == 403  # not a member


async def test_another_tenants_staff_schedule_is_not_found(client: httpx.AsyncClient, biz: Biz) -> None:
    other = await open_biz(client)
    theirs = await add_staff_member(client, other)
    url = f"{biz.url}/staff/{theirs['id']}/weekly-schedule"
    assert (await client.get(url, headers=biz.owner.headers)).json()["code"] == "staff_not_found"
    put = await client.put(url, headers=biz.owner.headers, json=WEEK)
    assert put.status_code == 404
    their_url = f"{other.url}/staff/{theirs['id']}/weekly-schedule"
    assert (await client.get(their_url, headers=other.owner.headers)).json() == {"hours": [], "breaks": []}
