"""A business's time zone is a canonical IANA zone name: files of a zoneinfo directory that
are no zone (`localtime`, `Factory`, `posixrules`) are refused, and an alias (`Egypt`) is
refused with the canonical zone it stands for, never rewritten."""

from __future__ import annotations

from importlib.resources import files
from zoneinfo import ZoneInfo

import httpx
import pytest

from booklnk.kernel.errors import ValidationFailed
from booklnk.kernel.timezones import check_time_zone, zone_names
from support import create_business, sign_up

ALIASES = [
    ("Egypt", "Africa/Cairo"),
    ("US/Eastern", "America/New_York"),
    ("Asia/Calcutta", "Asia/Kolkata"),
    ("Europe/Kiev", "Europe/Kyiv"),
    ("GMT", "Etc/GMT"),
    ("Universal", "Etc/UTC"),
]


def rule_and_message(name: str) -> tuple[str, str, str]:
    with pytest.raises(ValidationFailed) as caught:
        check_time_zone(name, field="body.time_zone")
    [issue] = caught.value.issues
    return issue.field, issue.rule, issue.message


@pytest.mark.parametrize(
    "name",
    [
        "Africa/Cairo",  # the default, and the demo's
        "UTC",
        "Etc/UTC",
        # The scheduling tests' zones.
        "America/New_York",
        "Europe/London",
        "Asia/Kolkata",
        "Australia/Lord_Howe",
        # Countries' zones that the compact data links to a neighbour's: still their names.
        "Europe/Amsterdam",
        "Europe/Stockholm",
        "Asia/Kuala_Lumpur",
        "Atlantic/Reykjavik",
    ],
)
def test_canonical_zones_are_accepted(name: str) -> None:
    assert check_time_zone(name, field="body.time_zone") == ZoneInfo(name)


@pytest.mark.parametrize(
    "name",
    ["localtime", "Factory", "posixrules", "posix/Africa/Cairo", "right/UTC", "zone.tab", "Africa", ""],
)
def test_names_that_are_no_zone_are_refused(name: str) -> None:
    message = f"{name!r} is not an IANA time zone."
    assert rule_and_message(name) == ("body.time_zone", "iana_time_zone", message)


@pytest.mark.parametrize(("alias", "canonical"), ALIASES)
def test_an_alias_is_refused_naming_its_canonical_zone(alias: str, canonical: str) -> None:
    field, rule, message = rule_and_message(alias)
    assert (field, rule) == ("body.time_zone", "iana_time_zone")
    assert f"send {canonical!r}" in message


def test_every_zone_of_the_country_table_is_canonical_and_loads() -> None:
    table = files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    located = {line.split("\t")[2].strip() for line in table.splitlines() if line and line[0] != "#"}
    names = zone_names()
    assert located <= names.canonical
    assert not names.canonical & names.aliases.keys()
    assert set(names.aliases.values()) <= names.canonical
    for name in names.canonical:
        ZoneInfo(name)


async def test_create_and_update_refuse_an_alias_and_keep_the_zone(client: httpx.AsyncClient) -> None:
    owner = await sign_up(client)
    created = await client.post(
        "/v1/businesses",
        headers=owner.headers,
        json={"name": "X", "slug": "xx-egypt", "business_type": "barbershop", "time_zone": "Egypt"},
    )
    assert created.status_code == 422, created.text
    [error] = created.json()["errors"]
    assert (error["field"], error["rule"]) == ("body.time_zone", "iana_time_zone")
    assert "'Africa/Cairo'" in error["message"]

    business_id = await create_business(client, owner, time_zone="UTC")
    url = f"/v1/businesses/{business_id}"
    for name in ("localtime", "Factory", "US/Eastern"):
        updated = await client.patch(url, headers=owner.headers, json={"time_zone": name})
        assert updated.status_code == 422, updated.text
        assert updated.json()["errors"][0]["field"] == "body.time_zone"
    assert (await client.get(url, headers=owner.headers)).json()["time_zone"] == "UTC"
    moved = await client.patch(url, headers=owner.headers, json={"time_zone": "Australia/Lord_Howe"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["time_zone"] == "Australia/Lord_Howe"
