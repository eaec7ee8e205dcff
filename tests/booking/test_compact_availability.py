"""`GET /availability/compact` offers exactly the starts, staff and resources of
`GET /availability`, in far fewer bytes; a class business is told to use the other."""

from __future__ import annotations

from typing import Any

import httpx

from booking_support import book, customer, open_bookable_shop
from class_support import open_gym

WEEK = {"from": "2026-11-25T00:00:00+02:00", "to": "2026-12-02T00:00:00+02:00"}


def _decoded(mask: str, ids: list[str]) -> set[str]:
    return {member for i, member in enumerate(ids) if int(mask, 16) >> i & 1}


def _from_compact(answer: dict[str, Any]) -> list[tuple[str, set[str], set[str]]]:
    chairs = answer["resource_ids"]["chair"]
    return [
        (
            start,
            _decoded(answer["staff_sets"][answer["staff_set"][i]], answer["staff_ids"]),
            _decoded(answer["resource_sets"]["chair"][answer["resource_set"]["chair"][i]], chairs),
        )
        for i, start in enumerate(answer["starts_at_local"])
    ]


async def test_the_compact_answer_offers_what_the_full_one_does(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=6, chairs=3)
    mona = await customer(client)
    for start in ("2026-11-25T10:00:00+02:00", "2026-11-25T10:00:00+02:00", "2026-11-26T12:30:00+02:00"):
        booked = await book(client, shop, mona, start)
        assert booked.status_code == 201, booked.text
    query = {"service_id": shop.service_id, **WEEK}
    full = await client.get(f"{shop.url}/availability", headers=mona.headers, params=query)
    small = await client.get(f"{shop.url}/availability/compact", headers=mona.headers, params=query)
    assert full.status_code == small.status_code == 200, small.text
    expected = [
        (slot["starts_at_local"], set(slot["staff_ids"]), set(slot["resource_ids"]["chair"]))
        for slot in full.json()["slots"]
    ]
    assert len(expected) > 200
    assert _from_compact(small.json()) == expected
    # The booked ten o'clock has four barbers and one chair left: a set of its own.
    ten = [s for s in _from_compact(small.json()) if s[0] == "2026-11-25T10:00:00+02:00"]
    assert [(len(staff), len(chairs)) for _, staff, chairs in ten] == [(4, 1)]
    assert small.json()["duration_minutes"] == full.json()["duration_minutes"] == 30
    assert len(small.content) * 4 < len(full.content)


async def test_a_class_business_is_sent_to_the_sessions_list(client: httpx.AsyncClient) -> None:
    gym = await open_gym(client)
    query = {"service_id": gym.service_id, **WEEK}
    answer = await client.get(f"{gym.base}/availability/compact", headers=gym.owner.headers, params=query)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "query.service_id"
    assert answer.json()["errors"][0]["rule"] == "appointments_only"
