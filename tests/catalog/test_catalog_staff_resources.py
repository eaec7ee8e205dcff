"""Staff members and resources: CRUD, account links, and tenant walls."""

from __future__ import annotations

import httpx
from catalog_support import Biz, Shop, add_resource, add_staff_member, issues, open_biz

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
