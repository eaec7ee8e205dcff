"""The web app's pages in-process (the app on the suite's clock, no browser): language,
sign-in and CSRF guards, role guards, and the front desk's staff actions on the clock
(a no-show is refused before the start and taken after it)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from web_forms import csrf_of, signed_in

from booking_support import ALL_WEEK_9_TO_18, book, customer, open_bookable_shop
from support import Account, FakeClock, add_staff, code_sent_to


async def test_the_root_opens_in_arabic_unless_english_is_preferred_or_remembered(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/")).headers["location"] == "/ar/"
    english = await client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,ar;q=0.5"})
    assert english.headers["location"] == "/en/"
    page = await client.get("/en/")
    assert '<html lang="en" dir="ltr">' in page.text
    assert (await client.get("/")).headers["location"] == "/en/"  # remembered by its cookie


async def test_an_unknown_business_is_a_page_in_the_readers_language(client: httpx.AsyncClient) -> None:
    missing = await client.get("/ar/b/no-such-place")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert '<html lang="ar" dir="rtl">' in missing.text
    assert "لم نجد هذا المكان" in missing.text


async def test_booking_needs_a_sign_in_and_comes_back_after_it(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client)
    path = f"/en/b/{await _slug(client, shop.owner, shop.url)}/s/{shop.service_id}/book"
    asked = await client.get(path, params={"start": "2026-11-25T10:00:00+02:00"})
    assert asked.status_code == 303
    assert asked.headers["location"].startswith("/en/sign-in?next=%2Fen%2Fb%2F")


async def test_a_next_address_never_leads_off_the_site(client: httpx.AsyncClient) -> None:
    for next_path in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        page = await client.get("/en/sign-in", params={"next": next_path})
        assert 'name="next" value="/en/"' in page.text, next_path


async def test_a_form_without_its_token_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    shop = await open_bookable_shop(client)
    someone = await customer(client)
    booked = await book(client, shop, someone, "2026-11-24T13:00:00+02:00")
    assert booked.status_code == 201, booked.text
    signed_in(client, shop.owner)
    panel = f"/en/desk/{shop.business_id}/bookings/{booked.json()['id']}"
    clock.advance(timedelta(hours=2, minutes=30))
    forged = await client.post(panel, data={"action": "no_show", "csrf": "forged-token-from-elsewhere"})
    assert forged.status_code == 403
    assert "This page has expired" in forged.text
    assert '<span class="status confirmed">' in (await client.get(panel)).text


async def test_the_desk_is_for_staff_only(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client)
    someone = await customer(client)
    signed_in(client, someone)
    refused = await client.get(f"/ar/desk/{shop.business_id}")
    assert refused.status_code == 403
    assert "دورك في هذا المكان لا يسمح" in refused.text


async def test_staff_mark_a_no_show_only_after_the_start_and_can_undo_it(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    shop = await open_bookable_shop(client)
    someone = await customer(client)
    booked = await book(client, shop, someone, "2026-11-24T13:00:00+02:00")  # 11:00 UTC; now 09:00 UTC
    booking_id = booked.json()["id"]
    signed_in(client, shop.owner)
    day = await client.get(f"/en/desk/{shop.business_id}", params={"on": "2026-11-24"})
    assert day.status_code == 200
    assert f"/bookings/{booking_id}" in day.text
    assert "Customer" in day.text
    panel = f"/en/desk/{shop.business_id}/bookings/{booking_id}"
    token = await csrf_of(client, panel)

    early = await client.post(panel, data={"action": "no_show", "csrf": token})
    assert early.status_code == 409, early.text
    assert "This cannot be done before the booking starts." in early.text

    clock.advance(timedelta(hours=2, minutes=20))  # 13:20 Cairo: past the start and its grace
    marked = await client.post(panel, data={"action": "no_show", "csrf": token})
    assert marked.status_code == 303
    after = await client.get(marked.headers["location"])
    assert '<span class="status no_show">No-show</span>' in after.text
    assert 'value="undo_no_show"' in after.text
    undone = await client.post(panel, data={"action": "undo_no_show", "csrf": token})
    assert undone.status_code == 303
    assert '<span class="status confirmed">' in (await client.get(panel)).text


async def test_staff_check_a_customer_in_from_the_day_view(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    shop = await open_bookable_shop(client)
    someone = await customer(client)
    booked = await book(client, shop, someone, "2026-11-24T11:30:00+02:00")  # 09:30 UTC
    signed_in(client, shop.owner)
    panel = f"/ar/desk/{shop.business_id}/bookings/{booked.json()['id']}"
    checked = await client.post(panel, data={"action": "check_in", "csrf": await csrf_of(client, panel)})
    assert checked.status_code == 303, checked.text
    assert '<span class="status checked_in">وصل</span>' in (await client.get(panel)).text


async def _slug(client: httpx.AsyncClient, owner: Account, url: str) -> str:
    return str((await client.get(url, headers=owner.headers)).json()["slug"])


async def test_signing_in_by_code_sets_the_session_and_a_wrong_code_says_so(
    client: httpx.AsyncClient,
) -> None:
    someone = await customer(client)
    token = await csrf_of(client, "/en/sign-in")
    sent = await client.post("/en/sign-in", data={"csrf": token, "address": someone.email, "next": "/en/my"})
    assert sent.status_code == 200
    assert "If this address has an account, we sent it a code." in sent.text
    wrong = await client.post(
        "/en/sign-in/code", data={"csrf": token, "address": someone.email, "code": "000000", "next": "/en/my"}
    )
    assert wrong.status_code == 400
    assert "The code is wrong or has expired." in wrong.text
    code = await code_sent_to(someone.email)
    right = await client.post(
        "/en/sign-in/code", data={"csrf": token, "address": someone.email, "code": code, "next": "/en/my"}
    )
    assert right.status_code == 303
    assert right.headers["location"] == "/en/my"
    cookies = right.headers.get_list("set-cookie")
    assert any(c.startswith("bl_access=") and "HttpOnly" in c and "SameSite=lax" in c for c in cookies)
    assert (await client.get("/en/my")).status_code == 200


async def test_a_form_names_the_field_it_refuses_in_the_readers_language(client: httpx.AsyncClient) -> None:
    token = await csrf_of(client, "/ar/sign-in")
    refused = await client.post("/ar/sign-in", data={"csrf": token, "address": "0100", "next": "/ar/"})
    assert refused.status_code == 422
    assert 'aria-invalid="true"' in refused.text
    assert "القيمة غير صالحة" in refused.text


async def test_a_rule_the_domain_words_in_english_is_marked_english_on_an_arabic_page(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_bookable_shop(client)
    someone = await customer(client)
    signed_in(client, someone)
    path = f"/ar/b/{await _slug(client, shop.owner, shop.url)}/s/{shop.service_id}/book"
    token = await csrf_of(client, "/ar/")
    refused = await client.post(path, data={"csrf": token, "start": "not a time"})
    assert refused.status_code == 422
    assert '<html lang="ar" dir="rtl">' in refused.text
    assert '<span lang="en" dir="ltr">Pick a time from the list.</span>' in refused.text


async def test_a_customer_sees_what_cancelling_gives_back_then_cancels(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    shop = await open_bookable_shop(client)
    someone = await customer(client)
    booked = await book(client, shop, someone, "2026-11-25T13:00:00+02:00")
    signed_in(client, someone)
    page = f"/en/my/{shop.business_id}/{booked.json()['id']}"
    asked = await client.get(f"{page}/cancel")
    assert asked.status_code == 200
    assert "Free cancellation until" in asked.text
    token = re.search(r'name="csrf" value="([^"]+)"', asked.text)
    version = re.search(r'name="version" value="([0-9]+)"', asked.text)
    assert token is not None
    assert version is not None
    done = await client.post(f"{page}/cancel", data={"csrf": token.group(1), "version": version.group(1)})
    assert done.status_code == 303
    shown = await client.get(done.headers["location"])
    assert "The booking is cancelled." in shown.text
    assert '<span class="status cancelled">' in shown.text


async def test_a_walk_in_is_booked_with_a_new_record_and_pays_cash_at_the_desk(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_bookable_shop(client)
    signed_in(client, shop.owner)
    form = f"/en/desk/{shop.business_id}/walk-in"
    token = await csrf_of(client, form)
    booked = await client.post(
        form,
        data={"csrf": token, "service": shop.service_id, "staff": "", "name": "Hany", "phone": "01001234567"},
    )
    assert booked.status_code == 303, booked.text
    panel = booked.headers["location"].split("?")[0]
    shown = await client.get(panel)
    assert "Hany" in shown.text
    assert 'value="150.00"' in shown.text  # the amount due, offered first
    paid = await client.post(f"{panel}/payments", data={"csrf": token, "amount": "150", "method": "cash"})
    assert paid.status_code == 303, paid.text
    after = await client.get(panel)
    assert "Take payment at the desk" not in after.text
    records = await client.get(f"{shop.url}/customers", params={"q": "0100 123"}, headers=shop.owner.headers)
    assert [r["name"] for r in records.json()["items"]] == ["Hany"]
    # The same number again finds the same record, and a bad amount names its field.
    again = await client.get(form, params={"q": "01001234567"})
    assert again.text.count('name="record"') == 2  # the record, and "someone else"
    refused = await client.post(f"{panel}/payments", data={"csrf": token, "amount": "-5", "method": "cash"})
    assert refused.status_code == 422
    assert "form.amount" in refused.text


async def test_reports_chart_the_money_and_rates_and_download_as_csv(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    shop = await open_bookable_shop(client)
    someone = await customer(client)
    kept = await book(client, shop, someone, "2026-11-24T11:30:00+02:00")
    missed = await book(client, shop, someone, "2026-11-24T13:00:00+02:00")
    signed_in(client, shop.owner)
    panel = f"/en/desk/{shop.business_id}/bookings/{kept.json()['id']}"
    token = await csrf_of(client, panel)
    assert (await client.post(panel, data={"csrf": token, "action": "check_in"})).status_code == 303
    paid = await client.post(f"{panel}/payments", data={"csrf": token, "amount": "150", "method": "cash"})
    assert paid.status_code == 303
    clock.advance(timedelta(hours=2, minutes=20))
    missed_panel = f"/en/desk/{shop.business_id}/bookings/{missed.json()['id']}"
    assert (await client.post(missed_panel, data={"csrf": token, "action": "no_show"})).status_code == 303

    # The ledger dates money by the database's clock (the real day), bookings by their start.
    today = datetime.now(UTC).astimezone(ZoneInfo("Africa/Cairo")).date()
    window = {"from": "2026-11-20", "to": today.isoformat()}
    page = await client.get(f"/en/desk/{shop.business_id}/reports", params=window)
    assert page.status_code == 200
    days = (today - date(2026, 11, 20)).days + 1
    assert page.text.count("<rect ") == days + 1  # a bar a day of money, one service
    label = f"{today:%b} {today.day}"
    assert re.search(rf"<title>{label}: EGP\s?150\.00</title>", page.text)
    assert "50%" in page.text  # one no-show of the two bookings whose time came
    csv = await client.get(f"/en/desk/{shop.business_id}/reports", params={**window, "csv": "revenue"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[-1] == f"{today.isoformat()},150.00"


async def test_utilisation_counts_only_the_time_that_could_be_booked_by_staff_and_by_room(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_bookable_shop(client, barbers=1, chairs=1)  # 09:00-18:00 every day
    lunch = {
        **ALL_WEEK_9_TO_18,
        "breaks": [{"weekday": d, "start": "13:00", "end": "14:00"} for d in range(7)],
    }
    week = await client.put(
        f"{shop.url}/staff/{shop.staff_ids[0]}/weekly-schedule", headers=shop.owner.headers, json=lunch
    )
    assert week.status_code == 200, week.text
    away = {"starts_at": "2026-11-26T09:00:00+02:00", "ends_at": "2026-11-27T00:00:00+02:00"}
    off = await client.post(
        f"{shop.url}/staff/{shop.staff_ids[0]}/time-off", headers=shop.owner.headers, json=away
    )
    assert off.status_code == 201, off.text
    someone = await customer(client)
    assert (await book(client, shop, someone, "2026-11-25T10:00:00+02:00")).status_code == 201
    signed_in(client, shop.owner)
    window = {"from": "2026-11-25", "to": "2026-11-26"}
    staff = await client.get(f"/en/desk/{shop.business_id}/reports", params={**window, "csv": "staff"})
    # Two days of 8 hours (a lunch hour out), the second taken off: 480 minutes could be booked.
    assert staff.text.splitlines()[1:] == ["Barber 0,30,480"]
    rooms = await client.get(f"/en/desk/{shop.business_id}/reports", params={**window, "csv": "rooms"})
    # The chair follows the business (no hours: all day), held for the cut and its buffer.
    assert rooms.text.splitlines()[1:] == ["Chair 0,35,2880"]


async def test_reports_are_for_owners(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client)
    someone = await customer(client)
    signed_in(client, someone)
    assert (await client.get(f"/en/desk/{shop.business_id}/reports")).status_code == 403


async def test_staff_see_their_own_column_and_owners_everyones(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client)
    barber = await customer(client)
    await add_staff(client, shop.owner, shop.business_id, barber)
    linked = await client.patch(
        f"{shop.url}/staff/{shop.staff_ids[1]}",
        headers=shop.owner.headers,
        json={"user_id": str(barber.user_id)},
    )
    assert linked.status_code == 200, linked.text
    signed_in(client, shop.owner)
    everyone = await client.get(f"/en/desk/{shop.business_id}", params={"on": "2026-11-24"})
    assert "Barber 0" in everyone.text
    assert "Barber 1" in everyone.text
    signed_in(client, barber)
    own = await client.get(f"/en/desk/{shop.business_id}", params={"on": "2026-11-24"})
    assert own.status_code == 200
    assert "Barber 1" in own.text
    assert "Barber 0" not in own.text


async def test_the_desk_finds_a_customer_sees_their_history_and_keeps_notes(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_bookable_shop(client)
    signed_in(client, shop.owner)
    form = f"/ar/desk/{shop.business_id}/walk-in"
    token = await csrf_of(client, form)
    walk_in = {"csrf": token, "service": shop.service_id, "name": "هاني", "phone": "01001234567"}
    assert (await client.post(form, data=walk_in)).status_code == 303
    listed = await client.get(
        f"/ar/desk/{shop.business_id}/customers", params={"q": "هانى"}
    )  # another spelling
    found = re.search(r'href="(/ar/desk/[^"]+/customers/[0-9a-f-]+)"', listed.text)
    assert found is not None
    record = await client.get(found.group(1))
    assert "هاني" in record.text
    assert "+201001234567" in record.text
    version = re.search(r'name="version" value="([0-9]+)"', record.text)
    assert version is not None
    saved = await client.post(
        found.group(1), data={"csrf": token, "version": version.group(1), "notes": "يحب الماء البارد"}
    )
    assert saved.status_code == 303
    assert "يحب الماء البارد" in (await client.get(found.group(1))).text
    stale = await client.post(
        found.group(1), data={"csrf": token, "version": version.group(1), "notes": "قديم"}
    )
    assert stale.status_code == 412
    assert "يحب الماء البارد" in (await client.get(found.group(1))).text


async def test_the_money_page_shows_desk_takings_and_each_mismatch_with_what_to_do(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    shop = await open_bookable_shop(client)
    signed_in(client, shop.owner)
    form = f"/en/desk/{shop.business_id}/walk-in"
    token = await csrf_of(client, form)
    booked = await client.post(form, data={"csrf": token, "service": shop.service_id, "name": "Hany"})
    panel = booked.headers["location"].split("?")[0]
    paid = await client.post(f"{panel}/payments", data={"csrf": token, "amount": "150", "method": "cash"})
    assert paid.status_code == 303
    async with owner_engine.begin() as conn:
        run = await conn.scalar(
            text(
                "INSERT INTO reconciliation_run"
                " (business_id, id, day, orders_checked, mismatches, started_at)"
                " VALUES (:b, gen_random_uuid(), DATE '2026-11-23', 3, 1, now()) RETURNING id"
            ),
            {"b": shop.business_id},
        )
        await conn.execute(
            text(
                "INSERT INTO reconciliation_mismatch"
                " (business_id, id, run_id, order_id, kind, ours, gateway, healed)"
                " VALUES (:b, gen_random_uuid(), :r, 'bk-order-1', 'refund_refused', '', '', false)"
            ),
            {"b": shop.business_id, "r": run},
        )
    page = await client.get(f"/en/desk/{shop.business_id}/money")
    assert page.status_code == 200
    assert re.search(r"<dt>Cash</dt><dd><bdi>EGP\s?150\.00</bdi></dd>", page.text)
    assert "Kashier refused a refund" in page.text
    assert "return the money at the desk and record it" in page.text


async def test_a_customer_moves_a_booking_to_another_free_time(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    someone = await customer(client)
    booked = await book(client, shop, someone, "2026-11-25T13:00:00+02:00")
    signed_in(client, someone)
    page = f"/en/my/{shop.business_id}/{booked.json()['id']}"
    shown = await client.get(page)
    change = re.search(r'href="(/en/b/[^"]+\?move=[^"]+)"', shown.text)
    assert change is not None
    link = change.group(1).replace("&amp;", "&")
    assert "length=30" in link  # the booking's own length, and its staff member
    times = await client.get(link + "&day=2026-11-25")
    moves = re.findall(r'href="(/en/my/[^"]+/move\?[^"]+)"', times.text)
    assert moves, "the times lead to the move, not to a new booking"
    later = next(m for m in moves if "T15%3A00" in m).replace("&amp;", "&")
    confirm = await client.get(later)
    assert confirm.status_code == 200
    token = re.search(r'name="csrf" value="([^"]+)"', confirm.text)
    version = re.search(r'name="version" value="([0-9]+)"', confirm.text)
    start = re.search(r'name="start" value="([^"]+)"', confirm.text)
    assert token is not None
    assert version is not None
    assert start is not None
    moved = await client.post(
        f"{page}/move", data={"csrf": token.group(1), "version": version.group(1), "start": start.group(1)}
    )
    assert moved.status_code == 303
    after = await client.get(
        f"/v1/businesses/{shop.business_id}/bookings/{booked.json()['id']}", headers=someone.headers
    )
    assert after.json()["starts_at"] == "2026-11-25T15:00:00Z"


async def test_signing_out_after_the_access_token_expired_ends_the_session(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    someone = await customer(client)
    signed_in(client, someone)
    token = await csrf_of(client, "/en/my")
    clock.advance(timedelta(hours=1))  # the access token is stale: the refresh token renews it
    out = await client.post("/en/sign-out", data={"csrf": token})
    assert out.status_code == 303
    assert not any(
        c.startswith(("bl_access=ey", "bl_refresh=")) and "Max-Age=0" not in c
        for c in out.headers.get_list("set-cookie")
    )
    again = await client.get("/en/my")
    assert again.status_code == 303
    assert again.headers["location"].startswith("/en/sign-in")


async def test_unknown_pages_and_oversized_forms_are_pages_too(client: httpx.AsyncClient) -> None:
    missing = await client.get("/ar/no/such/page")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    token = await csrf_of(client, "/en/sign-in")
    crowded = await client.post("/en/sign-in", data={"csrf": token, **{f"f{i}": "x" for i in range(60)}})
    assert crowded.status_code == 400
    assert crowded.headers["content-type"].startswith("text/html")
    long = await client.post("/en/sign-in", data={"csrf": token, "address": "a" * 2_001, "next": "/en/"})
    assert long.status_code == 422  # refused, never cut to something else
    assert "form.address" in long.text


async def test_a_background_poll_never_spends_the_refresh_token(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    shop = await open_bookable_shop(client)
    someone = await customer(client)
    booked = await book(client, shop, someone, "2026-11-25T13:00:00+02:00")
    signed_in(client, someone)
    page = f"/en/my/{shop.business_id}/{booked.json()['id']}"
    clock.advance(timedelta(hours=1))
    polled = await client.get(f"{page}?fragment=status", headers={"X-Booklnk-Background": "1"})
    assert polled.status_code == 303  # refused: the page's script reloads the page instead
    assert not polled.headers.get_list("set-cookie")
    reloaded = await client.get(page)  # the reader's own request renews, once
    assert reloaded.status_code == 200


async def test_two_tabs_renewing_together_both_stay_signed_in_but_a_late_replay_ends_it(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    someone = await customer(client)
    clock.advance(timedelta(hours=1))  # the access token is stale: each tab renews it
    tabs = [httpx.AsyncClient(transport=client._transport, base_url=client.base_url) for _ in range(2)]
    for tab in tabs:
        signed_in(tab, someone)
    first, second = [await tab.get("/en/my") for tab in tabs]
    assert (first.status_code, second.status_code) == (200, 200)
    clock.advance(timedelta(minutes=1))
    replay = httpx.AsyncClient(transport=client._transport, base_url=client.base_url)
    signed_in(replay, someone)
    assert (await replay.get("/en/my")).status_code == 303  # a stolen copy, later: the family ends
    clock.advance(timedelta(hours=1))  # the tabs' access tokens run out; their renewals are revoked
    assert [(await tab.get("/en/my")).status_code for tab in tabs] == [303, 303]
    for opened in (*tabs, replay):
        await opened.aclose()
