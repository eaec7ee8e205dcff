"""The owner's services page in-process: a price changed from the page is the business
page's price; a service taken off is gone from the business page and comes back; staff
are refused; bad input names its field, in Arabic too, and changes nothing."""

from __future__ import annotations

import re
from typing import Any

import httpx
from web_forms import csrf_of, signed_in

from booking_support import BookableShop, open_bookable_shop
from support import add_staff, sign_up


def _page(shop: BookableShop, language: str = "en") -> str:
    return f"/{language}/desk/{shop.business_id}/settings/services"


async def _service(client: httpx.AsyncClient, shop: BookableShop) -> dict[str, Any]:
    found = await client.get(f"{shop.url}/services/{shop.service_id}", headers=shop.owner.headers)
    assert found.status_code == 200, found.text
    service: dict[str, Any] = found.json()
    return service


async def _business_page(client: httpx.AsyncClient, shop: BookableShop) -> str:
    business = await client.get(shop.url, headers=shop.owner.headers)
    page = await client.get(f"/en/b/{business.json()['slug']}")
    assert page.status_code == 200, page.text
    return page.text


def _form(shop: BookableShop, csrf: str, **fields: str) -> dict[str, str]:
    form = {"csrf": csrf, "service": shop.service_id, "name": "Cut", "description": "", "price": "150"}
    form["durations"] = "30"
    form |= {f"staff_{staff_id}": "on" for staff_id in shop.staff_ids}
    return form | fields


async def test_an_owner_changes_a_price_and_takes_a_service_off_and_back(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=2)
    signed_in(client, shop.owner)
    csrf = await csrf_of(client, _page(shop))
    assert "EGP150.00" in await _business_page(client, shop)

    form = _form(shop, csrf, price="175.50", description="With a wash", durations="30, 45")
    del form[f"staff_{shop.staff_ids[1]}"]
    saved = await client.post(f"{_page(shop)}/{shop.service_id}", data=form)
    assert saved.status_code == 303, saved.text
    service = await _service(client, shop)
    assert service["price_minor"] == 17_550
    assert service["description"] == "With a wash"
    assert service["duration_options_minutes"] == [30, 45]
    assert service["staff_ids"] == [shop.staff_ids[0]]
    assert "EGP175.50" in await _business_page(client, shop)
    assert f'id="price-{shop.service_id}"' in (page := (await client.get(_page(shop))).text)
    assert 'value="175.5"' in page  # as the owner would type it again

    off = await client.post(f"{_page(shop)}/{shop.service_id}/active", data={"csrf": csrf, "active": "0"})
    assert off.status_code == 303, off.text
    assert "With a wash" not in await _business_page(client, shop)
    assert "Off the booking page" in (await client.get(_page(shop))).text

    back = await client.post(f"{_page(shop)}/{shop.service_id}/active", data={"csrf": csrf, "active": "1"})
    assert back.status_code == 303, back.text
    assert "With a wash" in await _business_page(client, shop)


async def test_bad_input_names_its_field_in_the_readers_language_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    signed_in(client, shop.owner)
    csrf = await csrf_of(client, _page(shop, "ar"))
    action = f"{_page(shop, 'ar')}/{shop.service_id}"

    free = await client.post(action, data=_form(shop, csrf, price="0"))
    assert free.status_code == 303, free.text
    assert (await _service(client, shop))["price_minor"] == 0
    await client.post(action, data=_form(shop, csrf, price="150"))
    negative = await client.post(action, data=_form(shop, csrf, price="-5"))
    assert negative.status_code == 422

    bad_price = await client.post(action, data=_form(shop, csrf, price="cheap"))
    assert bad_price.status_code == 422
    assert '<html lang="ar" dir="rtl">' in bad_price.text
    assert "السعر: اكتب السعر بالأرقام" in bad_price.text
    assert re.search(rf'<input id="price-{shop.service_id}"[^>]*aria-invalid="true"', bad_price.text)
    assert 'value="cheap"' in bad_price.text  # what was typed, to correct

    nameless = await client.post(action, data=_form(shop, csrf, name=" "))
    assert nameless.status_code == 422
    assert "الاسم: هذا الحقل مطلوب." in nameless.text

    off_grid = await client.post(f"{_page(shop)}/{shop.service_id}", data=_form(shop, csrf, durations="7"))
    assert off_grid.status_code == 422
    assert "Lengths (minutes): Each length must fit" in off_grid.text
    no_length = await client.post(f"{_page(shop)}/{shop.service_id}", data=_form(shop, csrf, durations="x"))
    assert no_length.status_code == 422
    assert "Lengths (minutes): Type one or more lengths" in no_length.text

    service = await _service(client, shop)
    assert (service["name"], service["price_minor"]) == ("Cut", 15_000)
    unknown = await client.post(f"{_page(shop)}/not-a-service", data=_form(shop, csrf))
    assert unknown.status_code == 404


async def test_the_services_page_is_for_owners_only(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    barber = await sign_up(client, "barber")
    await add_staff(client, shop.owner, shop.business_id, barber)
    signed_in(client, barber)
    refused = await client.get(_page(shop, "ar"))
    assert refused.status_code == 403
    assert "دورك في هذا المكان لا يسمح" in refused.text
    csrf = await csrf_of(client, "/ar/")
    posted = await client.post(f"{_page(shop, 'ar')}/{shop.service_id}", data=_form(shop, csrf, price="1"))
    assert posted.status_code == 403
    assert (await _service(client, shop))["price_minor"] == 15_000
