"""Owners take their bookings and customers away as spreadsheets that open in Excel with
Arabic as written; every export is in the audit log."""

from __future__ import annotations

import csv
import io

import httpx

from booking_support import book, customer, open_bookable_shop
from support import add_staff, sign_up

THURSDAY_10 = "2026-11-26T10:00:00+02:00"


def _read(answer: httpx.Response) -> list[dict[str, str]]:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith(b"\xef\xbb\xbf")  # UTF-8's byte order mark: Excel reads UTF-8
    return list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"), newline="")))


async def test_bookings_and_customers_export_with_arabic_and_no_formulas(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    owner = shop.owner.headers
    mona = await customer(client)
    assert (await client.patch("/v1/me", headers=mona.headers, json={"full_name": "منى إبراهيم"})).is_success
    booked = (await book(client, shop, mona, THURSDAY_10)).json()
    sneaky = await client.post(
        f"{shop.url}/customers",
        headers=owner,
        json={"name": '=HYPERLINK("http://x")', "phone": "01001234567"},
    )
    assert sneaky.status_code == 201, sneaky.text

    window = {"from": "2026-11-26T00:00:00+02:00", "to": "2026-11-27T00:00:00+02:00"}
    answer = await client.get(f"{shop.url}/exports/bookings.csv", headers=owner, params=window)
    assert answer.headers["content-disposition"] == 'attachment; filename="bookings.csv"'
    (row,) = _read(answer)
    assert (row["booking_id"], row["starts_at_local"], row["customer"], row["price"], row["paid"]) == (
        booked["id"],
        "2026-11-26 10:00",
        "منى إبراهيم",
        "150.00",
        "0.00",
    )

    rows = _read(await client.get(f"{shop.url}/exports/customers.csv", headers=owner))
    assert [(r["name"], r["phone"]) for r in rows] == [
        ('\'=HYPERLINK("http://x")', "'+201001234567"),
        ("منى إبراهيم", ""),
    ]
    assert rows[1]["upcoming"] == "1"

    log = (await client.get(f"{shop.url}/audit-events", headers=owner)).json()["items"]
    exported = [entry for entry in log if entry["action"].startswith("export.")]
    assert [entry["action"] for entry in exported] == ["export.customers", "export.bookings"]
    assert (exported[1]["details"]["rows"], exported[1]["actor_id"]) == (1, str(shop.owner.user_id))


async def test_exports_are_for_owners_and_bounded(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    export = f"{shop.url}/exports/bookings.csv"
    barber = await sign_up(client, "barber")
    await add_staff(client, shop.owner, shop.business_id, barber)
    staff = await client.get(f"{shop.url}/exports/customers.csv", headers=barber.headers)
    assert (staff.status_code, staff.json()["code"]) == (403, "insufficient_role")
    too_long = {"from": "2026-01-01T00:00:00Z", "to": "2027-06-01T00:00:00Z"}
    refused = await client.get(
        f"{shop.url}/exports/bookings.csv", headers=shop.owner.headers, params=too_long
    )
    assert (refused.status_code, refused.json()["errors"][0]["rule"]) == (422, "window_too_long")
    backwards = {"from": "2026-12-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}
    refused = await client.get(
        f"{shop.url}/exports/bookings.csv", headers=shop.owner.headers, params=backwards
    )
    assert (refused.status_code, refused.json()["errors"][0]["rule"]) == (422, "valid_window")
    missing = await client.get(export, headers=shop.owner.headers)
    assert (missing.status_code, missing.json()["errors"][0]["field"]) == (422, "query.from")
