"""Date overrides: a closed day or special hours, one per owner and date."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from catalog_support import Biz, add_resource, add_staff_member, issues, open_biz

NEW_YEAR = {"date": "2027-01-01", "closed": True}
SHORT_DAY = {
    "date": "2026-12-31",
    "hours": [{"start": "14:00", "end": "24:00"}, {"start": "09:00", "end": "12:00"}],
}


async def test_crud_for_the_business(client: httpx.AsyncClient, biz: Biz) -> None:
    url = f"{biz.url}/date-overrides"
    closed = await client.post(url, headers=biz.owner.headers, json=NEW_YEAR)
    assert closed.status_code == 201, closed.text
    assert {k: v for k, v in closed.json().items() if k != "id"} == {**NEW_YEAR, "hours": []}
    short = (await client.post(url, headers=biz.owner.headers, json=SHORT_DAY)).json()
    assert short["closed"] is False
    assert short["hours"] == SHORT_DAY["hours"]  # kept in the order given
    one = f"{url}/{short['id']}"
    assert (await client.get(one, headers=biz.owner.headers)).json() == short
    replaced = await client.put(one, headers=biz.owner.headers, json={"date": "2026-12-30", "closed": True})
    assert (replaced.json()["date"], replaced.json()["hours"]) == ("2026-12-30", [])
    assert (await client.delete(one, headers=biz.owner.headers)).status_code == 204
    listed = (await client.get(url, headers=biz.owner.headers)).json()
    assert [o["date"] for o in listed["items"]] == ["2027-01-01"]


async def test_one_override_per_owner_and_date(client: httpx.AsyncClient, biz: Biz) -> None:
    staff, chair = await add_staff_member(client, biz), await add_resource(client, biz)
    for owner in ("", f"/staff/{staff['id']}", f"/resources/{chair['id']}"):
        url = f"{biz.url}{owner}/date-overrides"
        assert (await client.post(url, headers=biz.owner.headers, json=NEW_YEAR)).status_code == 201
        again = await client.post(url, headers=biz.owner.headers, json=NEW_YEAR)
        assert (again.status_code, again.json()["code"]) == (409, "date_override_exists")


async def test_moving_an_override_onto_a_taken_date_is_409(client: httpx.AsyncClient, biz: Biz) -> None:
    url = f"{biz.url}/date-overrides"
    await client.post(url, headers=biz.owner.headers, json=NEW_YEAR)
    short = (await client.post(url, headers=biz.owner.headers, json=SHORT_DAY)).json()
    moved = await client.put(f"{url}/{short['id']}", headers=biz.owner.headers, json=NEW_YEAR)
    assert moved.status_code == 409


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"date": "2027-01-01", "closed": True, "hours": [{"start": "09:00", "end": "10:00"}]},
            [("body.hours", "hours_when_closed")],
        ),
        ({"date": "2027-01-01"}, [("body.hours", "required")]),
        (
            {"date": "2027-01-01", "hours": [{"start": "12:00", "end": "10:00"}]},
            [("body.hours.0", "end_not_after_start")],
        ),
        (
            {
                "date": "2027-01-01",
                "hours": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}],
            },
            [("body.hours.1", "overlapping_hours")],
        ),
        ({"date": "2027-02-30", "closed": True}, [("body.date", "date_from_datetime_parsing")]),
    ],
)
async def test_invalid_override_is_422(
    client: httpx.AsyncClient, biz: Biz, body: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    response = await client.post(f"{biz.url}/date-overrides", headers=biz.owner.headers, json=body)
    assert issues(response) == expected


async def test_list_filters_by_date_range(client: httpx.AsyncClient, biz: Biz) -> None:
    url = f"{biz.url}/date-overrides"
    for day in ("2026-12-01", "2026-12-15", "2027-01-01"):
        await client.post(url, headers=biz.owner.headers, json={"date": day, "closed": True})
    params = {"from_date": "2026-12-10", "to_date": "2026-12-31"}
    listed = (await client.get(url, headers=biz.owner.headers, params=params)).json()
    assert [o["date"] for o in listed["items"]] == ["2026-12-15"]


async def test_list_pages_through_dates(client: httpx.AsyncClient, biz: Biz) -> None:
    url = f"{biz.url}/date-overrides"
    for day in ("2026-12-03", "2026-12-01", "2026-12-02"):
        await client.post(url, headers=biz.owner.headers, json={"date": day, "closed": True})
    first = (await client.get(url, headers=biz.owner.headers, params={"limit": 2})).json()
    rest = await client.get(url, headers=biz.owner.headers, params={"cursor": first["next_cursor"]})
    assert rest.status_code == 200, rest.text
    assert [o["date"] for o in first["items"] + rest.json()["items"]] == [
        "2026-12-01",
        "2026-12-02",
        "2026-12-03",
    ]


async def test_another_tenants_override_is_not_found(client: httpx.AsyncClient, biz: Biz) -> None:
    other = await open_biz(client)
    theirs = (
        await client.post(f"{other.url}/date-overrides", headers=other.owner.headers, json=NEW_YEAR)
    ).json()
    url = f"{biz.url}/date-overrides/{theirs['id']}"
    assert (await client.get(url, headers=biz.owner.headers)).json()["code"] == "date_override_not_found"
    assert (await client.put(url, headers=biz.owner.headers, json=NEW_YEAR)).status_code == 404
    assert (await client.delete(url, headers=biz.owner.headers)).status_code == 404
