"""A service may change the business's payment rules for itself, within the type's bounds."""

from __future__ import annotations

import httpx

from booking_support import book, customer, open_bookable_shop

TOMORROW_10 = "2026-11-25T10:00:00+02:00"


async def test_a_prepaid_service_in_a_pay_at_venue_shop_holds_its_bookings(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    path = f"{shop.url}/services/{shop.service_id}"
    changed = await client.patch(
        path, headers=shop.owner.headers, json={"payment_overrides": {"payment_policy": "prepay"}}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["payment_overrides"] == {"payment_policy": "prepay"}
    mona = await customer(client)
    unpaid = await book(client, shop, mona, TOMORROW_10)
    assert unpaid.status_code == 422
    assert unpaid.json()["errors"][0]["field"] == "body.payment_method"
    held = await book(client, shop, mona, TOMORROW_10, payment_method="card")
    assert held.status_code == 201, held.text
    assert held.json()["status"] == "held"


async def test_service_overrides_outside_the_types_bounds_are_refused_by_field(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    path = f"{shop.url}/services/{shop.service_id}"
    for overrides, field, rule in [
        ({"payment_policy": "deposit"}, "body.payment_overrides.payment_policy", "not_allowed"),
        ({"buffer_after_minutes": 5}, "body.payment_overrides.buffer_after_minutes", "not_a_payment_rule"),
        ({"payment_methods": ["fawry"]}, "body.payment_overrides.payment_methods", "not_allowed"),
    ]:
        response = await client.patch(path, headers=shop.owner.headers, json={"payment_overrides": overrides})
        assert response.status_code == 422, (overrides, response.text)
        assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [(field, rule)], overrides
