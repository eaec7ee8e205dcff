"""iCalendar output, read back by a strict test-only parser: the pure renderer (escaping,
folding, CRLF), a booking's .ics export, and the private per-staff feed with its token
lifecycle (create, rotate, revoke)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking_support import BookableShop, book, customer, open_bookable_shop
from booklnk.booking.listing import new_feed_token
from booklnk.config import Settings
from booklnk.kernel import ics
from support import Account, FakeClock, add_staff, sign_up

# --- a strict reader: what a picky calendar app would refuse --------------------------

_CONTENT_LINE = re.compile(
    r'(?P<name>[A-Za-z0-9-]+)(?P<params>(?:;[A-Za-z0-9-]+=(?:"[^"]*"|[^";:,]*)(?:,(?:"[^"]*"|[^";:,]*))*)*)'
    r":(?P<value>.*)",
    re.DOTALL,
)
_UTC_INSTANT = re.compile(r"\d{8}T\d{6}Z")
TEXT_PROPERTIES = {"SUMMARY", "DESCRIPTION", "X-WR-CALNAME", "UID"}
REQUIRED = {"VCALENDAR": {"VERSION", "PRODID"}, "VEVENT": {"UID", "DTSTAMP", "DTSTART"}}


@dataclass
class Component:
    name: str
    properties: list[tuple[str, str]] = field(default_factory=list)
    children: list[Component] = field(default_factory=list)

    def values(self, name: str) -> list[str]:
        return [value for prop, value in self.properties if prop == name]

    def one(self, name: str) -> str:
        found = self.values(name)
        assert len(found) == 1, f"{self.name} has {len(found)} {name}"
        return found[0]

    def text(self, name: str) -> str:
        return unescape(self.one(name))

    @property
    def events(self) -> list[Component]:
        return [c for c in self.children if c.name == "VEVENT"]


def unescape(value: str) -> str:
    """A TEXT value back to its text; unescaped `,`/`;` or an unknown escape fail."""
    out, chars = [], iter(value)
    for char in chars:
        assert char not in ",;", f"unescaped {char!r} in {value!r}"
        if char != "\\":
            out.append(char)
            continue
        escaped = next(chars, "")
        assert escaped in ("\\", ";", ",", "n", "N"), f"bad escape \\{escaped} in {value!r}"
        out.append("\n" if escaped in "nN" else escaped)
    return "".join(out)


def _physical_lines(data: bytes) -> list[bytes]:
    assert data.endswith(b"\r\n"), "the last line must end in CRLF"
    lines = data[:-2].split(b"\r\n")
    for line in lines:
        assert b"\r" not in line, f"bare CR in {line!r}"
        assert b"\n" not in line, f"bare LF in {line!r}"
        assert len(line) <= 75, f"{len(line)} octets: {line!r}"
        line.decode()  # folding must never split a UTF-8 character
    return lines


def _unfold(lines: list[bytes]) -> list[str]:
    logical: list[bytes] = []
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            assert logical, "a continuation line cannot come first"
            logical[-1] += line[1:]
        else:
            logical.append(line)
    return [line.decode() for line in logical]


def parse_calendar(data: str | bytes) -> Component:
    """Parse one VCALENDAR strictly: CRLF only, lines of at most 75 octets, balanced
    BEGIN/END, required properties present, TEXT correctly escaped, UTC instants."""
    raw = data.encode() if isinstance(data, str) else data
    stack: list[Component] = []
    root: Component | None = None
    for line in _unfold(_physical_lines(raw)):
        match = _CONTENT_LINE.fullmatch(line)
        assert match, f"not a content line: {line!r}"
        name, value = match["name"].upper(), match["value"]
        assert root is None, f"content after END:VCALENDAR: {line!r}"
        if name == "BEGIN":
            component = Component(value)
            (stack[-1].children if stack else []).append(component)
            stack.append(component)
        elif name == "END":
            assert stack, f"END:{value} without BEGIN"
            assert stack[-1].name == value, f"END:{value} closes BEGIN:{stack[-1].name}"
            done = stack.pop()
            root = done if not stack else None
        else:
            assert stack, f"property outside any component: {line!r}"
            stack[-1].properties.append((name, value))
    assert root is not None, "no complete VCALENDAR"
    assert root.name == "VCALENDAR"
    _check(root)
    return root


def _check(component: Component) -> None:
    for name in REQUIRED.get(component.name, set()):
        component.one(name)
    for name, value in component.properties:
        if name in TEXT_PROPERTIES:
            unescape(value)
        if name in ("DTSTAMP", "DTSTART", "DTEND", "CREATED", "LAST-MODIFIED"):
            assert _UTC_INSTANT.fullmatch(value), f"{name}:{value} is not a UTC instant"
    if component.name == "VEVENT":
        assert not (component.values("DTEND") and component.values("DURATION"))
    for child in component.children:
        _check(child)


# --- the renderer ---------------------------------------------------------------------

STAMP = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _event(**overrides: object) -> ics.Event:
    fields: dict[str, object] = {
        "uid": "b1@booklnk",
        "starts_at": datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
        "ends_at": datetime(2026, 11, 25, 10, 30, tzinfo=UTC),
        "summary": "Cut",
        "status": "CONFIRMED",
        "sequence": 1,
        **overrides,
    }
    return ics.Event(**fields)  # type: ignore[arg-type]


def test_text_escaping_of_commas_semicolons_backslashes_and_newlines() -> None:
    assert ics.escape_text("Cut, wash; dry\nnow\\then\r\nend") == "Cut\\, wash\\; dry\\nnow\\\\then\\nend"
    assert ics.escape_text("bell\x07 and\ttab") == "bell and\ttab"  # controls dropped, HTAB kept


def test_a_calendar_with_awkward_names_parses_back_to_the_same_text() -> None:
    summary = "Cut, beard; shave at Salon \\ Co\nsecond line"
    text = ics.render_calendar([_event(summary=summary)], stamp=STAMP, name="Barber; One, Two")
    calendar = parse_calendar(text)
    assert calendar.one("VERSION") == "2.0"
    assert calendar.text("X-WR-CALNAME") == "Barber; One, Two"
    (event,) = calendar.events
    assert event.text("SUMMARY") == summary
    assert event.one("DTSTART") == "20261125T100000Z"
    assert event.one("DTSTAMP") == "20261124T090000Z"


def test_long_lines_fold_at_75_octets_without_splitting_characters() -> None:
    summary = "ä" * 100 + "x" * 80 + "😀" * 30  # two- and four-octet characters across folds
    text = ics.render_calendar([_event(summary=summary)], stamp=STAMP)
    lines = text.encode().split(b"\r\n")
    assert max(len(line) for line in lines) <= 75
    assert sum(line.startswith(b" ") for line in lines) >= 5
    assert parse_calendar(text).events[0].text("SUMMARY") == summary


def test_instants_are_rendered_in_utc_and_naive_ones_refused() -> None:
    cairo_noon = datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("Africa/Cairo"))
    assert ics.utc_instant(cairo_noon) == "20261125T100000Z"
    with pytest.raises(ValueError, match="aware"):
        ics.utc_instant(datetime(2026, 11, 25, 10, 0))  # noqa: DTZ001 - the point of the test


@given(st.text(max_size=300))
def test_any_text_survives_escaping_and_folding(value: str) -> None:
    text = ics.render_calendar([_event(summary=value, description=value)], stamp=STAMP)
    event = parse_calendar(text).events[0]
    expected = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", re.sub(r"\r\n|\r|\n", "\n", value))
    assert event.text("SUMMARY") == expected


def test_the_strict_reader_rejects_what_calendar_apps_reject() -> None:
    good = ics.render_calendar([_event()], stamp=STAMP)
    for broken in (
        good.replace("\r\n", "\n"),  # bare LF
        good.replace("END:VEVENT\r\n", ""),  # unbalanced
        good.replace("SUMMARY:Cut", "SUMMARY:Cut, wash"),  # unescaped comma
        good.replace("SUMMARY:Cut", "SUMMARY:" + "x" * 80),  # unfolded long line
        good.replace("DTSTAMP:20261124T090000Z\r\n", ""),  # a required property missing
    ):
        with pytest.raises(AssertionError):
            parse_calendar(broken)


# --- a booking's .ics export ----------------------------------------------------------

TOMORROW_10 = "2026-11-25T10:00:00+02:00"  # 08:00 UTC


async def _rename(client: httpx.AsyncClient, shop: BookableShop, name: str) -> None:
    response = await client.patch(shop.url, headers=shop.owner.headers, json={"name": name})
    assert response.status_code == 200, response.text


async def test_a_booking_exports_as_one_event(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    await _rename(client, shop, "Salon, Barbers; & Co\nCairo")
    mona, omar = await customer(client), await customer(client)
    booking = (await book(client, shop, mona, TOMORROW_10)).json()
    url = f"{shop.url}/bookings/{booking['id']}/ics"

    response = await client.get(url, headers=mona.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["content-disposition"] == f'attachment; filename="booking-{booking["id"]}.ics"'
    (event,) = parse_calendar(response.content).events
    assert event.one("UID") == f"{booking['id']}@booklnk"
    assert (event.one("DTSTART"), event.one("DTEND")) == ("20261125T080000Z", "20261125T083000Z")
    assert event.one("DTSTAMP") == "20261124T090000Z"  # the clock's now
    assert event.text("SUMMARY") == "Cut at Salon, Barbers; & Co\nCairo"
    assert event.text("DESCRIPTION") == "With Barber 0"
    assert (event.one("STATUS"), event.one("SEQUENCE")) == ("CONFIRMED", "1")

    assert (await client.get(url, headers=omar.headers)).status_code == 404  # not his
    assert (await client.get(url, headers=shop.owner.headers)).status_code == 200
    cancelled = await client.post(f"{shop.url}/bookings/{booking['id']}/cancel", headers=mona.headers)
    assert cancelled.status_code == 200, cancelled.text
    (event,) = parse_calendar((await client.get(url, headers=mona.headers)).content).events
    assert event.one("UID") == f"{booking['id']}@booklnk"  # the same event, updated
    assert (event.one("STATUS"), event.one("SEQUENCE")) == ("CANCELLED", "2")


async def test_a_held_booking_exports_as_tentative(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, business_type="consultant", barbers=1, durations=[60])
    mona = await customer(client)
    held = await book(
        client, shop, mona, "2026-11-26T10:00:00+02:00", payment_method="card", extra_fields={"topic": "x"}
    )
    assert held.json()["status"] == "held"
    response = await client.get(f"{shop.url}/bookings/{held.json()['id']}/ics", headers=mona.headers)
    assert parse_calendar(response.content).events[0].one("STATUS") == "TENTATIVE"


# --- the private per-staff feed -------------------------------------------------------


def _feed_path(url: str, settings: Settings) -> str:
    prefix = f"{settings.public_base_url}/v1/calendar-feeds/"
    assert url.startswith(prefix), url
    assert url.endswith(".ics")
    return url.removeprefix(settings.public_base_url)


async def _issue(
    client: httpx.AsyncClient, shop: BookableShop, who: Account, staff_id: str
) -> httpx.Response:
    issued = await client.post(f"{shop.url}/staff/{staff_id}/calendar-feed", headers=who.headers)
    if issued.status_code == 201:  # where the feed is managed: never the secret URL in a header
        assert issued.headers["Location"] == f"{shop.url}/staff/{staff_id}/calendar-feed"
    return issued


async def _feed(client: httpx.AsyncClient, path: str, **headers: str) -> Component:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["cache-control"] == "private, no-store"
    return parse_calendar(response.content)


async def test_feed_token_create_rotate_revoke(client: httpx.AsyncClient, settings: Settings) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    staff_id = shop.staff_ids[0]
    first = await _issue(client, shop, shop.owner, staff_id)
    assert first.status_code == 201, first.text
    old = _feed_path(first.json()["url"], settings)
    assert (await _feed(client, old)).text("X-WR-CALNAME").startswith("Barber 0 at ")

    rotated = _feed_path((await _issue(client, shop, shop.owner, staff_id)).json()["url"], settings)
    assert rotated != old
    assert (await client.get(old)).status_code == 404  # the old URL died with the rotation
    await _feed(client, rotated)

    revoked = await client.delete(f"{shop.url}/staff/{staff_id}/calendar-feed", headers=shop.owner.headers)
    assert revoked.status_code == 204
    assert (await client.get(rotated)).status_code == 404
    again = await client.delete(f"{shop.url}/staff/{staff_id}/calendar-feed", headers=shop.owner.headers)
    assert again.status_code == 204  # revoking is idempotent


async def test_unknown_and_forged_tokens_are_404(client: httpx.AsyncClient, settings: Settings) -> None:
    shop = await open_bookable_shop(client, barbers=1)
    url = (await _issue(client, shop, shop.owner, shop.staff_ids[0])).json()["url"]
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")  # right business, wrong secret
    for path in (
        "/v1/calendar-feeds/nope.ics",
        f"/v1/calendar-feeds/{new_feed_token(shop.business_id)}.ics",
        f"/v1/calendar-feeds/{new_feed_token(uuid.uuid4())}.ics",
        f"/v1/calendar-feeds/{forged}.ics",
        f"/v1/calendar-feeds/{token}",  # without the .ics suffix
    ):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"


async def test_only_owners_or_the_staff_member_themself_manage_a_feed(client: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(client, barbers=2)
    barber, stranger = await sign_up(client, "barber"), await customer(client)
    await add_staff(client, shop.owner, shop.business_id, barber)
    linked = await client.patch(
        f"{shop.url}/staff/{shop.staff_ids[0]}",
        headers=shop.owner.headers,
        json={"user_id": str(barber.user_id)},
    )
    assert linked.status_code == 200, linked.text
    assert (await _issue(client, shop, barber, shop.staff_ids[0])).status_code == 201  # their own
    assert (await _issue(client, shop, barber, shop.staff_ids[1])).status_code == 403  # a colleague's
    assert (await _issue(client, shop, stranger, shop.staff_ids[0])).status_code == 403
    assert (await _issue(client, shop, shop.owner, str(uuid.uuid4()))).status_code == 404
    other = await open_bookable_shop(client, barbers=1)
    # Another business's staff id, under the owner's own business: the tenant wall says 404.
    assert (await _issue(client, shop, shop.owner, other.staff_ids[0])).status_code == 404
    revoke = await client.delete(
        f"{shop.url}/staff/{shop.staff_ids[1]}/calendar-feed", headers=barber.headers
    )
    assert revoke.status_code == 403


async def test_feed_shows_the_staff_members_active_bookings_in_its_window(
    client: httpx.AsyncClient, clock: FakeClock, settings: Settings
) -> None:
    shop = await open_bookable_shop(client, barbers=2)
    mona, omar = await customer(client), await customer(client)
    barber0, barber1 = shop.staff_ids
    day = timedelta(days=1)
    kept = (await book(client, shop, mona, TOMORROW_10, staff_id=barber0)).json()
    later = (await book(client, shop, omar, "2026-12-14T10:00:00+02:00", staff_id=barber0)).json()
    other_barber = await book(client, shop, mona, TOMORROW_10, staff_id=barber1)
    assert other_barber.status_code == 201
    cancelled = (await book(client, shop, omar, "2026-11-25T12:00:00+02:00", staff_id=barber0)).json()
    assert (
        await client.post(f"{shop.url}/bookings/{cancelled['id']}/cancel", headers=omar.headers)
    ).is_success
    path = _feed_path((await _issue(client, shop, shop.owner, barber0)).json()["url"], settings)

    # Calendar apps send no credentials; a stray or stale header changes nothing.
    calendar = await _feed(client, path, authorization="Bearer not-a-token")
    assert [e.one("UID") for e in calendar.events] == [f"{kept['id']}@booklnk", f"{later['id']}@booklnk"]
    summaries = {e.text("SUMMARY") for e in calendar.events}
    assert summaries == {"Cut with Customer"}  # the customer's name, for the barber's eyes

    clock.current = datetime(2026, 11, 25, 8, 0, tzinfo=UTC) + 31 * day  # tomorrow's is 31 days back
    assert [e.one("UID") for e in (await _feed(client, path)).events] == [f"{later['id']}@booklnk"]
    clock.current = datetime(2026, 12, 14, 8, 0, tzinfo=UTC) - 90 * day  # the later one: 90 days ahead
    assert [e.one("UID") for e in (await _feed(client, path)).events] == [f"{kept['id']}@booklnk"]


async def test_a_lapsed_hold_leaves_the_feed(
    client: httpx.AsyncClient, clock: FakeClock, settings: Settings
) -> None:
    shop = await open_bookable_shop(client, business_type="consultant", barbers=1, durations=[60])
    mona = await customer(client)
    body = {"payment_method": "card", "extra_fields": {"topic": "x"}}
    held = (await book(client, shop, mona, "2026-11-26T10:00:00+02:00", **body)).json()
    path = _feed_path((await _issue(client, shop, shop.owner, shop.staff_ids[0])).json()["url"], settings)
    (event,) = (await _feed(client, path)).events
    assert (event.one("UID"), event.one("STATUS")) == (f"{held['id']}@booklnk", "TENTATIVE")
    clock.advance(timedelta(minutes=16))  # the card hold lasts 15 minutes
    assert (await _feed(client, path)).events == []  # blocks nothing, before any worker runs


async def test_a_feed_dies_with_its_issuers_membership_and_its_staff_members_deactivation(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    shop = await open_bookable_shop(client, barbers=2)
    barber = await sign_up(client, "barber")
    await add_staff(client, shop.owner, shop.business_id, barber)
    staff_url = f"{shop.url}/staff/{shop.staff_ids[0]}"
    linked = await client.patch(staff_url, headers=shop.owner.headers, json={"user_id": str(barber.user_id)})
    assert linked.status_code == 200, linked.text
    own = _feed_path((await _issue(client, shop, barber, shop.staff_ids[0])).json()["url"], settings)
    colleague = _feed_path(
        (await _issue(client, shop, shop.owner, shop.staff_ids[1])).json()["url"], settings
    )
    await _feed(client, own)

    removed = await client.delete(f"{shop.url}/members/{barber.user_id}", headers=shop.owner.headers)
    assert removed.status_code == 204, removed.text
    assert (await client.get(own)).status_code == 404  # the barber left; the URL they made is dead
    await _feed(client, colleague)  # the owner's feeds stay

    deactivated = await client.delete(f"{shop.url}/staff/{shop.staff_ids[1]}", headers=shop.owner.headers)
    assert deactivated.status_code == 204
    assert (await client.get(colleague)).status_code == 404
