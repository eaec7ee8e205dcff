"""The owner's team page in-process: staff renamed, deactivated and brought back, linked
to a member's account (who then sees only their own column on the desk); members
removed, never the last owner; invitations sent, refused as sentences when one is open
already, and revoked; staff are refused; and the invitation's link, opened by a new
account from the sent e-mail, accepted on a page that leads to the desk (a stale link is
a page, and the token never reaches the request log)."""

from __future__ import annotations

import html
import io
import json
import re
import uuid
from typing import Any
from urllib.parse import quote

import httpx
from web_forms import csrf_of, signed_in

from booking_support import BookableShop, open_bookable_shop
from booklnk.config import Settings
from mail_server import Mailbox
from support import JobRunner, add_staff, sign_up


def _page(shop: BookableShop, language: str = "en") -> str:
    return f"/{language}/desk/{shop.business_id}/settings/team"


async def _staff(client: httpx.AsyncClient, shop: BookableShop) -> list[dict[str, Any]]:
    found = await client.get(
        f"{shop.url}/staff", params={"include_inactive": "true"}, headers=shop.owner.headers
    )
    assert found.status_code == 200, found.text
    items: list[dict[str, Any]] = found.json()["items"]
    return items


async def _members(client: httpx.AsyncClient, shop: BookableShop) -> list[str]:
    found = await client.get(f"{shop.url}/members", headers=shop.owner.headers)
    assert found.status_code == 200, found.text
    return sorted(m["user_id"] for m in found.json()["items"])


async def test_an_owner_renames_deactivates_and_links_a_staff_member(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=2)
    barber = await sign_up(client, "barber")
    await add_staff(client, shop.owner, shop.business_id, barber)
    signed_in(client, shop.owner)
    csrf = await csrf_of(client, _page(shop))
    first, second = shop.staff_ids

    renamed = await client.post(
        f"{_page(shop)}/staff/{first}/rename", data={"csrf": csrf, "display_name": "Karim"}
    )
    assert renamed.status_code == 303, renamed.text
    page = (await client.get(_page(shop))).text
    assert "Karim" in page
    assert f'<option value="{barber.user_id}">Barber</option>' in page  # a member not linked yet

    linked = await client.post(
        f"{_page(shop)}/staff/{first}/link", data={"csrf": csrf, "user_id": str(barber.user_id)}
    )
    assert linked.status_code == 303, linked.text
    assert {s["id"]: s["user_id"] for s in await _staff(client, shop)}[first] == str(barber.user_id)
    taken = await client.post(
        f"{_page(shop)}/staff/{second}/link", data={"csrf": csrf, "user_id": str(barber.user_id)}
    )
    assert taken.status_code == 409
    assert "This account is on the team already." in taken.text
    stranger = await client.post(
        f"{_page(shop)}/staff/{second}/link", data={"csrf": csrf, "user_id": str(uuid.uuid4())}
    )
    assert stranger.status_code == 422
    assert "Linked account: This is not a valid" in stranger.text

    off = await client.post(f"{_page(shop)}/staff/{second}/active", data={"csrf": csrf, "active": "0"})
    assert off.status_code == 303, off.text
    assert {s["id"]: s["active"] for s in await _staff(client, shop)}[second] is False
    back = await client.post(f"{_page(shop)}/staff/{second}/active", data={"csrf": csrf, "active": "1"})
    assert back.status_code == 303, back.text
    assert all(s["active"] for s in await _staff(client, shop))

    nameless = await client.post(
        f"/ar/desk/{shop.business_id}/settings/team/staff/{first}/rename",
        data={"csrf": csrf, "display_name": " "},
    )
    assert nameless.status_code == 422
    assert "الاسم الظاهر: هذا الحقل مطلوب." in nameless.text
    assert re.search(rf'<input id="rename-{first}"[^>]*aria-invalid="true"', nameless.text)


async def test_members_are_removed_but_never_the_last_owner(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    barber = await sign_up(client, "barber")
    await add_staff(client, shop.owner, shop.business_id, barber)
    signed_in(client, shop.owner)
    csrf = await csrf_of(client, _page(shop, "ar"))

    last = await client.post(f"{_page(shop, 'ar')}/members/{shop.owner.user_id}/remove", data={"csrf": csrf})
    assert last.status_code == 409
    assert "لا بد أن يبقى للنشاط مالك واحد على الأقل." in last.text
    removed = await client.post(f"{_page(shop)}/members/{barber.user_id}/remove", data={"csrf": csrf})
    assert removed.status_code == 303, removed.text
    assert await _members(client, shop) == [str(shop.owner.user_id)]


async def test_invitations_are_sent_refused_as_sentences_and_revoked(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    signed_in(client, shop.owner)
    csrf = await csrf_of(client, _page(shop))

    sent = await client.post(
        f"{_page(shop)}/invitations", data={"csrf": csrf, "email": "new@example.com", "role": "staff"}
    )
    assert sent.status_code == 303, sent.text
    page = (await client.get(_page(shop))).text
    assert "new@example.com" in page
    again = await client.post(
        f"{_page(shop)}/invitations", data={"csrf": csrf, "email": "new@example.com", "role": "owner"}
    )
    assert again.status_code == 409
    assert "An invitation to this address is waiting to be accepted." in again.text
    bad = await client.post(
        f"/ar/desk/{shop.business_id}/settings/team/invitations",
        data={"csrf": csrf, "email": "not an address", "role": "staff"},
    )
    assert bad.status_code == 422
    assert "البريد الإلكتروني: اكتب بريدًا إلكترونيًا صحيحًا" in bad.text

    listed = await client.get(f"{shop.url}/invitations", headers=shop.owner.headers)
    [invitation] = listed.json()["items"]
    revoked = await client.post(f"{_page(shop)}/invitations/{invitation['id']}/revoke", data={"csrf": csrf})
    assert revoked.status_code == 303, revoked.text
    assert (await client.get(f"{shop.url}/invitations", headers=shop.owner.headers)).json()["items"] == []

    # A business invites at most 20 addresses a day, revoked ones counted: then a sentence.
    for i in range(19):
        more = await client.post(
            f"{_page(shop)}/invitations", data={"csrf": csrf, "email": f"n{i}@example.com", "role": "staff"}
        )
        assert more.status_code == 303, more.text
    too_many = await client.post(
        f"/ar/desk/{shop.business_id}/settings/team/invitations",
        data={"csrf": csrf, "email": "late@example.com", "role": "staff"},
    )
    assert too_many.status_code == 429
    assert "أرسلت أقصى عدد من الدعوات اليوم (20)" in too_many.text


async def test_the_team_page_is_for_owners_only(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    barber = await sign_up(client, "barber")
    await add_staff(client, shop.owner, shop.business_id, barber)
    signed_in(client, barber)
    refused = await client.get(_page(shop, "ar"))
    assert refused.status_code == 403
    assert "دورك في هذا المكان لا يسمح" in refused.text
    csrf = await csrf_of(client, "/ar/")
    posted = await client.post(
        f"{_page(shop, 'ar')}/invitations", data={"csrf": csrf, "email": "x@example.com", "role": "owner"}
    )
    assert posted.status_code == 403
    removed = await client.post(f"{_page(shop)}/members/{shop.owner.user_id}/remove", data={"csrf": csrf})
    assert removed.status_code == 403
    assert len(await _members(client, shop)) == 2


async def test_an_invitee_opens_the_e_mailed_link_accepts_and_sees_their_own_column(
    client: httpx.AsyncClient,
    run_jobs: JobRunner,
    mailbox: Mailbox,
    log_stream: io.StringIO,
    settings: Settings,
) -> None:
    shop = await open_bookable_shop(client, barbers=2)
    invitee = await sign_up(client, "newcomer")  # a new account, a customer anywhere else
    signed_in(client, shop.owner)
    csrf = await csrf_of(client, _page(shop))
    sent = await client.post(
        f"{_page(shop)}/invitations", data={"csrf": csrf, "email": invitee.email, "role": "staff"}
    )
    assert sent.status_code == 303, sent.text
    await run_jobs()
    [message] = [m for m in mailbox.messages(to=invitee.email) if "join" in str(m.get_body(("plain",)))]
    plain = message.get_body(preferencelist=("plain",))
    assert plain is not None
    found = re.search(r"(\S*)(/en/join/[^\s]+)", plain.get_content())
    assert found is not None
    assert found.group(1) == settings.public_base_url.rstrip("/")  # a whole address, to tap
    found = re.search(r"(/en/join/[^\s]+)", plain.get_content())
    assert found is not None
    link = found.group(1)
    token = link.partition("token=")[2]
    assert len(token) >= 40
    assert token in plain.get_content().split(link)[1]  # the token alone too, for the API

    # Signed out, the link leads to signing in, then back to itself.
    client.cookies.clear()
    asked = await client.get(link)
    assert asked.status_code == 303
    assert asked.headers["location"] == f"/en/sign-in?next={quote(link, safe='')}"
    sign_in = await client.get(asked.headers["location"])
    assert f'name="next" value="{html.escape(link)}"' in sign_in.text  # and so does signing up

    signed_in(client, invitee)
    page = await client.get(link)
    assert page.status_code == 200, page.text
    assert "You are invited to join" in page.text
    assert "Staff" in page.text
    csrf = await csrf_of(client, link)
    accepted = await client.post(
        f"/en/join/{shop.business_id}", data={"csrf": csrf, "token": token, "role": "staff"}
    )
    assert accepted.status_code == 303, accepted.text
    assert accepted.headers["location"] == f"/en/desk/{shop.business_id}"
    assert str(invitee.user_id) in await _members(client, shop)

    # Used once, the link is a sentence on a page, never a 500.
    again = await client.post(f"/en/join/{shop.business_id}", data={"csrf": csrf, "token": token})
    assert again.status_code == 409
    assert "This invitation was used or has expired" in again.text
    wrong = await client.post(f"/ar/join/{shop.business_id}", data={"csrf": csrf, "token": "x" * 43})
    assert wrong.status_code == 404
    assert "لم نجد هذه الدعوة." in wrong.text

    # Linked by the owner to a column, the newcomer sees that column only.
    signed_in(client, shop.owner)
    csrf = await csrf_of(client, _page(shop))
    first = shop.staff_ids[0]
    await client.post(f"{_page(shop)}/staff/{first}/rename", data={"csrf": csrf, "display_name": "Nour"})
    linked = await client.post(
        f"{_page(shop)}/staff/{first}/link", data={"csrf": csrf, "user_id": str(invitee.user_id)}
    )
    assert linked.status_code == 303, linked.text
    signed_in(client, invitee)
    desk = await client.get(f"/en/desk/{shop.business_id}")
    assert desk.status_code == 200, desk.text
    assert "Nour" in desk.text
    assert "Barber 1" not in desk.text

    # The request log (the test's SMTP server logs the mail it reads: not ours to judge).
    requests = [line for line in log_stream.getvalue().splitlines() if json.loads(line)["event"] == "request"]
    assert any("/join/" in line for line in requests)  # the log was written, without the token
    assert not [line for line in requests if token in line]
