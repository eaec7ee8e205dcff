"""The owner's rules page in-process: the form is the business type's own (each
overridable rule with its value, default and bounds; fixed rules read-only), and each save
goes through the same use case as the API, so what the page saves is what bookings,
cancellations and reminders then follow; a value outside the type's bounds is refused
naming its field, in the reader's language, and changes nothing."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from web_forms import csrf_of, signed_in

from booking_support import BookableShop, book, customer, open_bookable_shop
from booklnk.db.database import Database
from booklnk.tenancy.context import Actor
from booklnk.tenancy.service import access_business
from support import add_staff, sign_up

BOOKING_AT = "2026-11-24T13:00:00+02:00"


def _page(shop: BookableShop, language: str = "en") -> str:
    return f"/{language}/desk/{shop.business_id}/settings/rules"


async def _business(client: httpx.AsyncClient, shop: BookableShop) -> dict[str, Any]:
    found = await client.get(shop.url, headers=shop.owner.headers)
    assert found.status_code == 200, found.text
    business: dict[str, Any] = found.json()
    return business


async def _save(
    client: httpx.AsyncClient, shop: BookableShop, section: str, fields: dict[str, str], language: str = "en"
) -> httpx.Response:
    signed_in(client, shop.owner)
    token = await csrf_of(client, _page(shop, language))
    return await client.post(f"{_page(shop, language)}/{section}", data={"csrf": token, **fields})


async def test_the_form_is_the_types_own_with_values_defaults_and_bounds(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client)
    signed_in(client, shop.owner)
    page = await client.get(_page(shop))
    assert page.status_code == 200, page.text
    assert 'aria-current="page"' in page.text
    assert "/settings/rules" in page.text
    # Every rule the barbershop type lets a shop override has its input, labelled.
    for rule in ("buffer_after_minutes", "cancellation_window_minutes", "first_reminder_minutes"):
        assert f'<label for="rule-{rule}">' in page.text
        assert f'id="rule-{rule}" name="{rule}"' in page.text
    # One hour, shown in hours (not 60 minutes), with its bounds as people read them.
    assert re.search(r'name="cancellation_window_minutes" value="1"', page.text)
    assert '<option value="hours" selected>' in page.text
    assert (
        "Now: <strong>1 hour</strong> · Type&#39;s default: 1 hour · between 0 minutes and 1 day" in page.text
    )
    assert 'name="payment_policy" value="prepay"' in page.text
    assert 'name="payment_policy" value="deposit"' not in page.text  # the type does not allow it
    assert "Quiet hours start" in page.text
    assert '<option value="22" selected>10:00' in page.text


async def test_a_gym_shows_what_its_type_fixes_read_only(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, business_type="gym")
    signed_in(client, shop.owner)
    page = await client.get(_page(shop))
    assert page.status_code == 200, page.text
    assert 'name="buffer_before_minutes"' not in page.text  # fixed by the gym type
    fixed = page.text.split("Set by the type of business", 1)[1]
    assert "Gap before each booking" in fixed.split("</dl>", 1)[0]
    assert 'name="default_capacity"' in page.text  # a class setting the gym may change


async def test_a_wider_cancellation_window_is_what_customers_are_told(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client)
    slug = (await _business(client, shop))["slug"]
    assert "Free cancellation until 1 hour before" in (await client.get(f"/en/b/{slug}")).text
    saved = await _save(
        client,
        shop,
        "booking",
        {"cancellation_window_minutes": "3", "cancellation_window_minutes_unit": "hours"},
    )
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"].endswith("/settings/rules?saved=booking#booking")
    assert (await _business(client, shop))["rule_overrides"] == {"cancellation_window_minutes": 180}
    assert "Free cancellation until 3 hours before" in (await client.get(f"/en/b/{slug}")).text
    assert "The booking rules are saved." in (await client.get(saved.headers["location"])).text


async def test_prepay_makes_a_new_booking_wait_for_its_payment(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client)
    someone = await customer(client)
    before = await book(client, shop, someone, BOOKING_AT)
    assert before.status_code == 201, before.text
    assert before.json()["status"] == "confirmed"
    saved = await _save(client, shop, "payment", {"payment_policy": "prepay", "method_card": "on"})
    assert saved.status_code == 303, saved.text
    assert (await _business(client, shop))["rule_overrides"] == {
        "payment_policy": "prepay",
        "payment_methods": ["card"],
    }
    at = "2026-11-24T15:00:00+02:00"
    unpaid = await book(client, shop, await customer(client), at)
    assert unpaid.status_code == 422  # paying in advance: a way to pay is now needed
    after = await book(client, shop, await customer(client), at, payment_method="card")
    assert after.status_code == 201, after.text
    assert after.json()["status"] == "held"


async def test_prepay_without_a_way_to_pay_is_refused_at_the_methods(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client)
    refused = await _save(client, shop, "payment", {"payment_policy": "prepay"})
    assert refused.status_code == 422
    assert (
        "Online payment methods offered</a>: This is needed with the payment policy chosen." in refused.text
    )
    assert (await _business(client, shop))["rule_overrides"] == {}


async def test_leaving_the_deposit_policy_drops_its_percent(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, business_type="consultant")
    fields = {"payment_policy": "deposit", "deposit_percent": "60", "method_card": "on", "method_fawry": "on"}
    assert (await _save(client, shop, "payment", fields)).status_code == 303
    assert (await _business(client, shop))["rule_overrides"] == {"deposit_percent": 60}
    prepay = await _save(client, shop, "payment", fields | {"payment_policy": "prepay"})
    assert prepay.status_code == 303, prepay.text
    assert (await _business(client, shop))["rule_overrides"] == {"payment_policy": "prepay"}


async def test_a_value_beyond_the_types_bound_is_refused_naming_it_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_bookable_shop(client)
    fields = {
        "buffer_after_minutes": "10",
        "cancellation_window_minutes": "2",
        "cancellation_window_minutes_unit": "days",
    }
    refused = await _save(client, shop, "booking", fields)
    assert refused.status_code == 422
    assert '<a href="#rule-cancellation_window_minutes">Free cancellation until</a>' in refused.text
    assert (
        'id="rule-cancellation_window_minutes-error">Choose a value between 0 minutes and 1 day.'
        in refused.text
    )
    assert 'name="cancellation_window_minutes" value="2"' in refused.text  # as typed, to correct
    assert (await _business(client, shop))["rule_overrides"] == {}  # the valid buffer is not saved either


async def test_a_refusal_is_in_the_readers_language(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client)
    refused = await _save(client, shop, "booking", {"horizon_days": "abc"}, language="ar")
    assert refused.status_code == 422
    assert '<html lang="ar" dir="rtl">' in refused.text
    assert "أبعد موعد يمكن حجزه</a>: اكتب عددًا صحيحًا." in refused.text
    beyond = await _save(client, shop, "booking", {"horizon_days": "400"}, language="ar")
    assert beyond.status_code == 422
    assert "اختر قيمة بين" in beyond.text
    assert (await _business(client, shop))["rule_overrides"] == {}
    arabic_digits = await _save(client, shop, "booking", {"horizon_days": "٤٥"}, language="ar")
    assert arabic_digits.status_code == 303  # as an Arabic keyboard types them
    assert (await _business(client, shop))["rule_overrides"] == {"horizon_days": 45}


async def test_reminders_saved_are_what_the_business_now_follows(
    client: httpx.AsyncClient, db: Database
) -> None:
    shop = await open_bookable_shop(client)
    fields = {
        "first_reminder_minutes": "2",
        "first_reminder_minutes_unit": "days",
        "second_reminder_minutes": "45",
        "second_reminder_minutes_unit": "minutes",
        "quiet_hours_start": "23",
        "quiet_hours_end": "8",
        "require_phone": "on",
    }
    saved = await _save(client, shop, "notifications", fields)
    assert saved.status_code == 303, saved.text
    async with db.transaction(user_id=shop.owner.user_id) as tx:
        ctx = await access_business(tx, Actor(shop.owner.user_id), shop.business_id, require=None)
    rules = ctx.rules
    got = (rules.first_reminder_minutes, rules.second_reminder_minutes, rules.quiet_hours_start)
    assert (*got, rules.quiet_hours_end) == (2880, 45, 23, 8)
    assert ctx.require_phone is True
    page = (await client.get(_page(shop))).text
    assert "Now: <strong>2 days</strong>" in page
    assert 'name="require_phone" aria-describedby="require-phone-about" checked' in page


async def test_a_value_equal_to_the_default_keeps_no_override_and_reset_clears_all(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_bookable_shop(client)
    fields = {
        "cancellation_window_minutes": "60",
        "cancellation_window_minutes_unit": "minutes",
        "buffer_after_minutes": "10",
    }
    assert (await _save(client, shop, "booking", fields)).status_code == 303
    assert (await _business(client, shop))["rule_overrides"] == {"buffer_after_minutes": 10}
    assert (await _save(client, shop, "notifications", {"second_reminder_minutes": "0"})).status_code == 303
    token = await csrf_of(client, _page(shop))
    reset = await client.post(f"{_page(shop)}/reset", data={"csrf": token})
    assert reset.status_code == 303
    assert (await _business(client, shop))["rule_overrides"] == {}


async def test_only_the_owner_may_see_or_change_the_rules(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client)
    staff = await sign_up(client, "staff")
    await add_staff(client, shop.owner, shop.business_id, staff)
    signed_in(client, staff)
    refused = await client.get(_page(shop))
    assert refused.status_code == 403
    assert "Your role in this place does not allow this." in refused.text
    token = await csrf_of(client, "/en/")  # any page of theirs carries their token
    posted = await client.post(f"{_page(shop)}/booking", data={"csrf": token, "buffer_after_minutes": "10"})
    assert posted.status_code == 403
    reset = await client.post(f"{_page(shop)}/reset", data={"csrf": token})
    assert reset.status_code == 403
    assert (await _business(client, shop))["rule_overrides"] == {}


async def test_an_unknown_section_or_business_is_a_page_not_a_failure(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client)
    signed_in(client, shop.owner)
    token = await csrf_of(client, _page(shop))
    assert (await client.post(f"{_page(shop)}/everything", data={"csrf": token})).status_code == 404
    missing = await client.get(f"/en/desk/{uuid.uuid4()}/settings/rules")
    assert missing.status_code == 404
    odd_unit = await _save(
        client, shop, "booking", {"undo_window_minutes": "1", "undo_window_minutes_unit": "weeks"}
    )
    assert odd_unit.status_code == 422
