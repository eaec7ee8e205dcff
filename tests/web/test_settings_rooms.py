"""The owner's rooms and chairs page in-process (the suite's clock: Tuesday 2026-11-24,
11:00 in Cairo): a chair added from the page is the API's resource and, once a service
needs a chair, what its bookings take; renamed and deactivated from the page (then the
service cannot be booked); staff are refused; bad input names its field, in Arabic too."""

from __future__ import annotations

import re
from typing import Any

import httpx
from web_forms import csrf_of, signed_in

from booking_support import BookableShop, book, customer, open_bookable_shop
from support import add_staff, sign_up


def _page(shop: BookableShop, language: str = "en") -> str:
    return f"/{language}/desk/{shop.business_id}/settings/rooms"


async def _resources(client: httpx.AsyncClient, shop: BookableShop) -> list[dict[str, Any]]:
    found = await client.get(
        f"{shop.url}/resources", params={"include_inactive": "true"}, headers=shop.owner.headers
    )
    assert found.status_code == 200, found.text
    items: list[dict[str, Any]] = found.json()["items"]
    return items


async def test_an_owner_adds_a_chair_a_service_needs_renames_it_and_deactivates_it(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    signed_in(client, shop.owner)
    csrf = await csrf_of(client, _page(shop))

    added = await client.post(
        _page(shop), data={"csrf": csrf, "name": "Chair by the window", "kind": "Chair"}
    )
    assert added.status_code == 303, added.text
    [chair] = await _resources(client, shop)
    assert (chair["name"], chair["kind"], chair["active"]) == ("Chair by the window", "chair", True)
    assert "Chair by the window" in (await client.get(_page(shop))).text

    needs = await client.post(
        f"{_page(shop)}/needs/{shop.service_id}", data={"csrf": csrf, "need_chair": "on"}
    )
    assert needs.status_code == 303, needs.text
    service = (await client.get(f"{shop.url}/services/{shop.service_id}", headers=shop.owner.headers)).json()
    assert service["required_resource_kinds"] == ["chair"]

    # One chair: one booking at 10:00 takes it, and a second at that time finds none.
    first, second = await customer(client), await customer(client)
    booked = await book(client, shop, first, "2026-11-25T10:00:00+02:00")
    assert booked.status_code == 201, booked.text
    refused = await book(client, shop, second, "2026-11-25T10:00:00+02:00")
    assert refused.status_code == 409, refused.text

    renamed = await client.post(f"{_page(shop)}/{chair['id']}/rename", data={"csrf": csrf, "name": "Chair 1"})
    assert renamed.status_code == 303, renamed.text
    assert [r["name"] for r in await _resources(client, shop)] == ["Chair 1"]

    off = await client.post(f"{_page(shop)}/{chair['id']}/active", data={"csrf": csrf, "active": "0"})
    assert off.status_code == 303, off.text
    assert [r["active"] for r in await _resources(client, shop)] == [False]
    page = (await client.get(_page(shop))).text
    assert "Deactivated" in page
    assert "This service needs a chair and none is active" in page
    no_chair = await book(client, shop, second, "2026-11-25T12:00:00+02:00")
    assert no_chair.status_code == 409, no_chair.text

    back = await client.post(f"{_page(shop)}/{chair['id']}/active", data={"csrf": csrf, "active": "1"})
    assert back.status_code == 303, back.text
    again = await book(client, shop, second, "2026-11-25T12:00:00+02:00")
    assert again.status_code == 201, again.text

    cleared = await client.post(f"{_page(shop)}/needs/{shop.service_id}", data={"csrf": csrf})
    assert cleared.status_code == 303, cleared.text
    service = (await client.get(f"{shop.url}/services/{shop.service_id}", headers=shop.owner.headers)).json()
    assert service["required_resource_kinds"] == []


async def test_bad_input_names_its_field_in_the_readers_language_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    signed_in(client, shop.owner)
    csrf = await csrf_of(client, _page(shop, "ar"))

    arabic_kind = await client.post(_page(shop, "ar"), data={"csrf": csrf, "name": "كرسي 1", "kind": "كرسي"})
    assert arabic_kind.status_code == 422
    assert '<html lang="ar" dir="rtl">' in arabic_kind.text
    assert "النوع: اكتب النوع بحروف إنجليزية صغيرة" in arabic_kind.text
    assert re.search(r'<input id="kind"[^>]*aria-invalid="true"', arabic_kind.text)

    nameless = await client.post(_page(shop, "ar"), data={"csrf": csrf, "name": "  ", "kind": "chair"})
    assert nameless.status_code == 422
    assert "الاسم: هذا الحقل مطلوب." in nameless.text

    too_long = await client.post(_page(shop), data={"csrf": csrf, "name": "x" * 201, "kind": "chair"})
    assert too_long.status_code == 422
    assert "Name: Too long." in too_long.text
    bad_need = await client.post(
        f"{_page(shop)}/needs/{shop.service_id}", data={"csrf": csrf, "need_Big Room!": "on"}
    )
    assert bad_need.status_code == 422
    assert "Needs: Write the kind in small English letters" in bad_need.text
    assert await _resources(client, shop) == []

    unknown = await client.post(f"{_page(shop)}/not-a-room/rename", data={"csrf": csrf, "name": "x"})
    assert unknown.status_code == 404


async def test_the_rooms_page_is_for_owners_only(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    barber = await sign_up(client, "barber")
    await add_staff(client, shop.owner, shop.business_id, barber)
    signed_in(client, barber)
    refused = await client.get(_page(shop, "ar"))
    assert refused.status_code == 403
    assert "دورك في هذا المكان لا يسمح" in refused.text
    csrf = await csrf_of(client, "/ar/")
    posted = await client.post(_page(shop, "ar"), data={"csrf": csrf, "name": "Chair", "kind": "chair"})
    assert posted.status_code == 403
    assert await _resources(client, shop) == []
