"""Staff members and resources: CRUD, account links, and tenant walls."""

from __future__ import annotations

import httpx
import pytest
from catalog_support import Biz, Shop, add_resource, add_staff_member, issues, open_biz
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from support import sign_up


async def test_staff_member_linked_to_a_member(client: httpx.AsyncClient, shop: Shop) -> None:
    karim = await add_staff_member(client, shop, user_id=str(shop.staff.user_id))
    assert karim["user_id"] == str(shop.staff.user_id)
    listed = await client.get(f"{shop.url}/staff", headers=shop.customer.headers)
    assert [s["id"] for s in listed.json()["items"]] == [karim["id"]]


async def test_linking_a_non_member_is_422(client: httpx.AsyncClient, shop: Shop) -> None:
    response = await client.post(
        f"{shop.url}/staff",
        headers=shop.owner.headers,
        json={"display_name": "Mona", "user_id": str(shop.customer.user_id)},
    )
    assert issues(response) == [("body.user_id", "not_a_member")]


async def test_one_account_links_one_staff_member(client: httpx.AsyncClient, shop: Shop) -> None:
    await add_staff_member(client, shop, user_id=str(shop.staff.user_id))
    second = await client.post(
        f"{shop.url}/staff",
        headers=shop.owner.headers,
        json={"display_name": "Again", "user_id": str(shop.staff.user_id)},
    )
    assert second.status_code == 409
    assert second.json()["code"] == "staff_user_taken"


async def test_patch_unlinks_renames_and_deactivates(client: httpx.AsyncClient, shop: Shop) -> None:
    karim = await add_staff_member(client, shop, user_id=str(shop.staff.user_id))
    url = f"{shop.url}/staff/{karim['id']}"
    patched = await client.patch(
        url, headers=shop.owner.headers, json={"user_id": None, "display_name": "K."}
    )
    assert (patched.json()["user_id"], patched.json()["display_name"]) == (None, "K.")
    assert (await client.delete(url, headers=shop.owner.headers)).status_code == 204
    assert (await client.get(url, headers=shop.customer.headers)).status_code == 404
    assert (await client.get(url, headers=shop.staff.headers)).json()["active"] is False


async def test_removing_the_member_unlinks_but_keeps_the_staff_member(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    karim = await add_staff_member(client, shop, user_id=str(shop.staff.user_id))
    removed = await client.delete(f"{shop.url}/members/{shop.staff.user_id}", headers=shop.owner.headers)
    assert removed.status_code == 204
    kept = await client.get(f"{shop.url}/staff/{karim['id']}", headers=shop.owner.headers)
    assert (kept.status_code, kept.json()["user_id"]) == (200, None)


async def test_removing_a_linked_member_refused_keeps_the_link(client: httpx.AsyncClient, shop: Shop) -> None:
    """The unlink and the removal are one step: the last owner's refused removal (409)
    leaves the staff member linked, though the request's transaction goes on."""
    owner = await add_staff_member(client, shop, user_id=str(shop.owner.user_id))
    refused = await client.delete(f"{shop.url}/members/{shop.owner.user_id}", headers=shop.owner.headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "last_owner")
    kept = await client.get(f"{shop.url}/staff/{owner['id']}", headers=shop.owner.headers)
    assert kept.json()["user_id"] == str(shop.owner.user_id)


async def test_a_lane_that_does_not_fit_the_span_is_refused(
    client: httpx.AsyncClient, shop: Shop, owner_engine: AsyncEngine
) -> None:
    """A lane above 2^29 - 1 (a sequence that started at 2^48, as a Citus worker's copy
    does) would wrap onto another lane's span; it is refused instead."""
    karim = await add_staff_member(client, shop)
    async with owner_engine.connect() as conn:
        wraps = await conn.execute(
            text(
                "SELECT booklnk_span(2, tstzrange(now(), now() + interval '1 hour'))"
                " = booklnk_span(2 + (1::bigint << 48), tstzrange(now(), now() + interval '1 hour'))"
            )
        )
        assert wraps.scalar_one() is True  # why the lane is bounded
        with pytest.raises(IntegrityError, match="ck_staff_member_lane_fits_span"):
            await conn.execute(
                text("UPDATE staff_member SET lane = 2 + (1::bigint << 48) WHERE id = :id"),
                {"id": karim["id"]},
            )


async def test_resource_crud(client: httpx.AsyncClient, biz: Biz) -> None:
    chair = await add_resource(client, biz)
    url = f"{biz.url}/resources/{chair['id']}"
    assert (await client.get(url, headers=biz.owner.headers)).json() == chair
    patched = await client.patch(
        url, headers=biz.owner.headers, json={"name": "Chair A", "kind": "barber-chair"}
    )
    assert (patched.json()["name"], patched.json()["kind"]) == ("Chair A", "barber-chair")
    assert (await client.delete(url, headers=biz.owner.headers)).status_code == 204
    listed = await client.get(f"{biz.url}/resources", headers=biz.owner.headers)
    assert listed.json()["items"] == []  # inactive rows need include_inactive


async def test_resource_kind_is_a_slug(client: httpx.AsyncClient, biz: Biz) -> None:
    response = await client.post(
        f"{biz.url}/resources", headers=biz.owner.headers, json={"name": "Room", "kind": "Big Room"}
    )
    assert issues(response) == [("body.kind", "string_pattern_mismatch")]


async def test_other_tenants_staff_and_resources_are_not_found(client: httpx.AsyncClient, biz: Biz) -> None:
    other = await open_biz(client)
    their_staff, their_chair = await add_staff_member(client, other), await add_resource(client, other)
    for path in (f"/staff/{their_staff['id']}", f"/resources/{their_chair['id']}"):
        assert (await client.get(f"{biz.url}{path}", headers=biz.owner.headers)).status_code == 404
        patched = await client.patch(f"{biz.url}{path}", headers=biz.owner.headers, json={"active": False})
        assert patched.status_code == 404


async def test_only_owners_write_staff_and_resources(client: httpx.AsyncClient, shop: Shop) -> None:
    stranger = await sign_up(client, "stranger")
    for account in (shop.staff, shop.customer, stranger):
        for path, body in (("/staff", {"display_name": "X"}), ("/resources", {"name": "X", "kind": "room"})):
            response = await client.post(f"{shop.url}{path}", headers=account.headers, json=body)
            assert response.status_code == 403, (account, path)
