"""Every built-in business type speaks Arabic as well as English: its name, description
and the titles of the questions it asks at booking."""

from __future__ import annotations

from typing import Any

import httpx

from booking_support import open_bookable_shop
from booklnk.business_types.loader import builtin_definitions


def test_every_builtin_type_has_its_arabic_name_description_and_field_titles() -> None:
    for definition in builtin_definitions():
        assert definition.name_ar, definition.key
        assert (definition.description is None) == (definition.description_ar is None), definition.key
        properties: dict[str, dict[str, Any]] = definition.booking_fields.get("properties", {})
        for name, field in properties.items():
            for key in ("title", "description"):
                assert (key in field) == (f"{key}_ar" in field), (definition.key, name, key)


async def test_a_business_page_gives_the_questions_in_both_languages(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, business_type="consultant", barbers=1)
    slug = (await client.get(shop.url, headers=shop.owner.headers)).json()["slug"]
    page = await client.get(f"/v1/public/businesses/{slug}")
    assert page.status_code == 200, page.text
    topic = page.json()["policies"]["booking_fields"]["properties"]["topic"]
    assert (topic["title"], topic["title_ar"]) == ("Topic", "الموضوع")
