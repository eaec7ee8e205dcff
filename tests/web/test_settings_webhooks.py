"""The owner's webhook endpoints page in-process: an endpoint added shows its signing
secret on that answer only; a URL the target policy refuses (a private address) is a 422
naming the field; endpoints are turned off and on, removed after asking, and a delivery is
sent again; nobody but the owner gets in."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from web_forms import csrf_of, signed_in

from booking_support import BookableShop, book, customer, open_bookable_shop
from booklnk.api.app import create_app
from booklnk.config import Settings
from booklnk.db.database import Database
from support import Account, FakeClock, add_staff, create_business, sign_up

HOOK = "http://127.0.0.1:9/hook"


def _page(business_id: uuid.UUID, language: str = "en") -> str:
    return f"/{language}/desk/{business_id}/settings/webhooks"


async def _add(
    client: httpx.AsyncClient,
    owner: Account,
    business_id: uuid.UUID,
    url: str = HOOK,
    events: tuple[str, ...] = ("booking.created",),
    language: str = "en",
) -> httpx.Response:
    signed_in(client, owner)
    token = await csrf_of(client, _page(business_id, language))
    fields = {"csrf": token, "url": url, "description": "CRM"} | {f"event_{e}": "on" for e in events}
    return await client.post(_page(business_id, language), data=fields)


async def _endpoints(
    client: httpx.AsyncClient, owner: Account, business_id: uuid.UUID
) -> list[dict[str, object]]:
    found = await client.get(f"/v1/businesses/{business_id}/webhook-endpoints", headers=owner.headers)
    assert found.status_code == 200, found.text
    items: list[dict[str, object]] = found.json()["items"]
    return items


async def test_an_endpoint_added_shows_its_secret_once(
    client: httpx.AsyncClient, owner_engine: AsyncEngine, log_stream: io.StringIO
) -> None:
    owner = await sign_up(client, "owner")
    business_id = await create_business(client, owner)
    added = await _add(client, owner, business_id, events=("booking.created", "booking.cancelled"))
    assert added.status_code == 200, added.text
    async with owner_engine.connect() as conn:
        secret = (await conn.execute(text("SELECT secret FROM webhook_endpoint"))).scalar_one()
    assert secret.startswith("whsec_")
    assert f'value="{secret}"' in added.text
    assert "it will not be shown again" in added.text
    [endpoint] = await _endpoints(client, owner, business_id)
    assert (endpoint["url"], endpoint["events"], endpoint["description"]) == (
        HOOK,
        ["booking.created", "booking.cancelled"],
        "CRM",
    )
    later = await client.get(_page(business_id))
    assert later.status_code == 200
    assert HOOK in later.text
    assert "Booking made, Booking cancelled" in later.text
    assert secret not in later.text
    assert secret not in log_stream.getvalue()
    assert "/settings/webhooks" in log_stream.getvalue()  # the log was written, without it
    assert "whsec_" not in later.text


@pytest.fixture
async def production_like(
    db: Database, settings: Settings, clock: FakeClock
) -> AsyncIterator[httpx.AsyncClient]:
    """The app as production judges targets: no private or loopback address."""
    strict = settings.model_copy(update={"webhook_allow_private_targets": False})
    transport = httpx.ASGITransport(app=create_app(strict, db, clock=clock), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.mark.parametrize("url", ["http://10.0.0.5/hook", "http://169.254.169.254/latest/meta-data"])
async def test_a_private_address_is_refused_naming_the_field(
    production_like: httpx.AsyncClient, url: str
) -> None:
    owner = await sign_up(production_like, "owner")
    business_id = await create_business(production_like, owner)
    refused = await _add(production_like, owner, business_id, url=url)
    assert refused.status_code == 422
    assert '<a href="#hook-url">Address (URL)</a>: This is an internal or private address' in refused.text
    assert 'id="hook-url-error"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert "whsec_" not in refused.text
    assert await _endpoints(production_like, owner, business_id) == []
    arabic = await _add(production_like, owner, business_id, url=url, language="ar")
    assert arabic.status_code == 422
    assert "العنوان (URL)</a>: هذا عنوان داخلي أو خاص" in arabic.text


async def test_bad_input_is_a_422_naming_each_field(client: httpx.AsyncClient) -> None:
    owner = await sign_up(client, "owner")
    business_id = await create_business(client, owner)
    no_events = await _add(client, owner, business_id, events=())
    assert no_events.status_code == 422
    assert '<a href="#hook-events">Events sent</a>: Choose at least one event.' in no_events.text
    assert f'value="{HOOK}"' in no_events.text  # what was typed stays, to correct
    not_a_url = await _add(client, owner, business_id, url="ftp://example.com/x")
    assert not_a_url.status_code == 422
    assert "Address (URL)</a>: Type a full address starting with https://" in not_a_url.text
    too_long = await _add(client, owner, business_id, url="http://example.com/" + "x" * 2100)
    assert too_long.status_code == 422
    assert "form.url" in too_long.text  # refused by the form guard, never cut to another address
    assert await _endpoints(client, owner, business_id) == []


async def test_an_endpoint_is_turned_off_and_on_and_removed_after_asking(client: httpx.AsyncClient) -> None:
    owner = await sign_up(client, "owner")
    business_id = await create_business(client, owner)
    assert (await _add(client, owner, business_id)).status_code == 200
    [endpoint] = await _endpoints(client, owner, business_id)
    token = await csrf_of(client, _page(business_id))
    here = f"{_page(business_id)}/{endpoint['id']}"
    off = await client.post(f"{here}/enabled", data={"csrf": token, "enabled": "false"})
    assert off.status_code == 303
    assert (await _endpoints(client, owner, business_id))[0]["enabled"] is False
    assert "Turn on" in (await client.get(off.headers["location"])).text
    on = await client.post(f"{here}/enabled", data={"csrf": token, "enabled": "true"})
    assert on.status_code == 303
    assert (await _endpoints(client, owner, business_id))[0]["enabled"] is True
    asked = await client.get(f"{here}/remove")
    assert asked.status_code == 200
    assert "Remove this address?" in asked.text
    assert HOOK in asked.text
    assert len(await _endpoints(client, owner, business_id)) == 1  # asking removes nothing
    removed = await client.post(f"{here}/remove", data={"csrf": token})
    assert removed.status_code == 303
    assert await _endpoints(client, owner, business_id) == []
    assert "The address is removed." in (await client.get(removed.headers["location"])).text
    gone = await client.post(f"{here}/remove", data={"csrf": token})
    assert gone.status_code == 404


async def _shop_with_a_delivery(client: httpx.AsyncClient) -> tuple[BookableShop, str]:
    shop = await open_bookable_shop(client)
    assert (await _add(client, shop.owner, shop.business_id)).status_code == 200
    [endpoint] = await _endpoints(client, shop.owner, shop.business_id)
    booked = await book(client, shop, await customer(client), "2026-11-24T13:00:00+02:00")
    assert booked.status_code == 201, booked.text
    return shop, str(endpoint["id"])


async def test_recent_deliveries_are_listed_and_one_is_sent_again(
    client: httpx.AsyncClient, clock: FakeClock, owner_engine: AsyncEngine
) -> None:
    shop, endpoint_id = await _shop_with_a_delivery(client)
    signed_in(client, shop.owner)
    here = f"{_page(shop.business_id)}/{endpoint_id}"
    page = await client.get(here)
    assert page.status_code == 200, page.text
    assert "Booking made" in page.text
    assert "Sending" in page.text
    async with owner_engine.connect() as conn:
        message_id = (await conn.execute(text("SELECT id FROM webhook_message"))).scalar_one()
    clock.advance(timedelta(hours=1))
    token = await csrf_of(client, here)
    again = await client.post(f"{here}/messages/{message_id}/redeliver", data={"csrf": token})
    assert again.status_code == 303
    assert "We send the event again now." in (await client.get(again.headers["location"])).text
    async with owner_engine.connect() as conn:
        due = (await conn.execute(text("SELECT next_attempt_at FROM webhook_message"))).scalar_one()
    assert due == clock.now()


async def test_a_turned_off_endpoint_is_not_sent_again(
    client: httpx.AsyncClient, owner_engine: AsyncEngine
) -> None:
    shop, endpoint_id = await _shop_with_a_delivery(client)
    signed_in(client, shop.owner)
    here = f"{_page(shop.business_id)}/{endpoint_id}"
    token = await csrf_of(client, here)
    assert (await client.post(f"{here}/enabled", data={"csrf": token, "enabled": "false"})).status_code == 303
    async with owner_engine.connect() as conn:
        message_id = (await conn.execute(text("SELECT id FROM webhook_message"))).scalar_one()
    refused = await client.post(f"{here}/messages/{message_id}/redeliver", data={"csrf": token})
    assert refused.status_code == 409
    assert "The address is off: turn it on, then send again." in refused.text


async def test_only_the_owner_manages_endpoints(client: httpx.AsyncClient) -> None:
    owner = await sign_up(client, "owner")
    business_id = await create_business(client, owner)
    assert (await _add(client, owner, business_id)).status_code == 200
    [endpoint] = await _endpoints(client, owner, business_id)
    staff = await sign_up(client, "staff")
    await add_staff(client, owner, business_id, staff)
    signed_in(client, staff)
    refused = await client.get(_page(business_id))
    assert refused.status_code == 403
    assert "Your role in this place does not allow this." in refused.text
    token = await csrf_of(client, "/en/")
    here = f"{_page(business_id)}/{endpoint['id']}"
    assert (await client.get(here)).status_code == 403
    assert (await client.post(f"{here}/remove", data={"csrf": token})).status_code == 403
    fields = {"csrf": token, "url": HOOK, "event_booking.created": "on"}
    assert (await client.post(_page(business_id), data=fields)).status_code == 403
    assert len(await _endpoints(client, owner, business_id)) == 1


async def test_the_add_form_sent_twice_adds_one_endpoint(client: httpx.AsyncClient) -> None:
    owner = await sign_up(client, "owner")
    business_id = await create_business(client, owner)
    signed_in(client, owner)
    form = (await client.get(_page(business_id))).text
    attempt = re.search(r'name="attempt" value="([0-9a-f]{32})"', form)
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert attempt is not None
    assert token is not None
    fields = {"csrf": token.group(1), "attempt": attempt.group(1), "url": HOOK, "event_booking.created": "on"}
    first = await client.post(_page(business_id), data=fields)
    assert first.status_code == 200, first.text
    again = await client.post(_page(business_id), data=fields)  # the answer reloaded: the form again
    assert again.status_code == 303
    assert again.headers["location"].endswith("?done=added")
    assert "its secret was shown once" in (await client.get(again.headers["location"])).text
    assert len(await _endpoints(client, owner, business_id)) == 1
