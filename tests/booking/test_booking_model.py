"""Bookings as a state machine, against a model (hypothesis).

Random sequences of bookings, status changes (by the customer or the owner, sometimes
with a stale If-Match), reschedules and the clock moving on go through the real API on
PostgreSQL. After every step the answer, the database and the availability list must
agree with a few lines of model, whose state graph and clock rules are written out here
again (not imported) from DESIGN.md and the barbershop type: statuses and versions, one
active allocation exactly while a booking blocks time (a no-show too), a slot offered
exactly when no blocking booking is in its way, staff actions only when the clock allows,
a customer's bookings capped per day, and every status change recorded in the audit.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from booking_support import BookableShop, open_bookable_shop
from booklnk.config import Settings
from booklnk.db.database import Database
from support import Account, FakeClock, in_process_api, log_in, sign_up

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 11:00 in Cairo
# Tomorrow in Cairo; 10:00 and 10:15 overlap (30 minutes plus the 5-minute buffer). Two
# barbers fit six bookings at these starts, so the daily limit (4) is met with slots still free.
STARTS = [
    "2026-11-25T10:00:00+02:00",
    "2026-11-25T10:15:00+02:00",
    "2026-11-25T11:00:00+02:00",
    "2026-11-25T12:00:00+02:00",
]
# Where the clock goes next: tomorrow 09:40 (check-in open for 10:00 and 10:15), 10:20
# (10:00 a no-show, 10:15 started), 11:40 (the first three started, check-in closed for
# the first two; 12:00's open).
TICKS = [
    NOW,
    *map(
        datetime.fromisoformat, ("2026-11-25T09:40+02:00", "2026-11-25T10:20+02:00", "2026-11-25T11:40+02:00")
    ),
]
LENGTH = timedelta(minutes=30)
BLOCK = timedelta(minutes=35)
BARBERS = 2
CHECK_IN_OPENS, NO_SHOW_GRACE, FREE_CANCEL = (timedelta(minutes=m) for m in (30, 15, 60))
DAILY_LIMIT = 4

GRAPH = {
    ("held", "confirm"): "confirmed",
    ("held", "cancel"): "cancelled",
    ("confirmed", "check-in"): "checked_in",
    ("confirmed", "cancel"): "cancelled",
    ("confirmed", "no-show"): "no_show",
    ("checked_in", "complete"): "completed",
    ("checked_in", "undo-check-in"): "confirmed",
    ("no_show", "undo-no-show"): "confirmed",
}
BLOCKING = {"held", "confirmed", "checked_in", "completed", "no_show"}
ACTIONS = ["confirm", "cancel", "check-in", "complete", "no-show", "undo-check-in", "undo-no-show"]
AUDITED = {
    "confirm": "confirm",
    "cancel": "cancel",
    "check-in": "check_in",
    "complete": "complete",
    "no-show": "no_show",
    "undo-check-in": "undo_check_in",
    "undo-no-show": "undo_no_show",
}

Op = tuple[str, int, int, bool, bool]  # kind, index, start or action, by owner, stale If-Match
ops = st.lists(
    st.tuples(
        st.sampled_from(["book", "book", "act", "act", "act", "move", "tick"]),
        st.integers(0, 7),
        st.integers(0, 7),
        st.booleans(),
        st.booleans() | st.just(False),
    ),
    min_size=1,
    max_size=24,
)


@dataclass
class Held:
    id: str
    staff: int
    start: int
    status: str = "confirmed"  # a barbershop is paid at the venue
    version: int = 1
    last: str = "create"  # the action of its latest status change

    @property
    def starts_at(self) -> datetime:
        return datetime.fromisoformat(STARTS[self.start])


@dataclass
class World:
    client: httpx.AsyncClient
    db: Database
    clock: FakeClock
    shop: BookableShop
    customer: Account
    bookings: list[Held] = field(default_factory=list)

    def who(self, by_owner: bool) -> Account:
        return self.shop.owner if by_owner else self.customer

    def free(self, staff: int, start: int, *, ignoring: str | None = None) -> bool:
        at = datetime.fromisoformat(STARTS[start])
        for b in self.bookings:
            overlaps = at < b.starts_at + BLOCK and b.starts_at < at + BLOCK
            if b.id != ignoring and b.staff == staff and b.status in BLOCKING and overlaps:
                return False
        return True


async def _book(world: World, staff: int, start: int, by_owner: bool) -> None:
    body = {"service_id": world.shop.service_id, "starts_at": STARTS[start]}
    body["staff_id"] = world.shop.staff_ids[staff]
    if by_owner:
        body["customer_id"] = str(world.customer.user_id)
    response = await world.client.post(
        f"{world.shop.url}/bookings", headers=world.who(by_owner).headers, json=body
    )
    mine = sum(b.status in BLOCKING for b in world.bookings)  # every start is on one day
    if by_owner and not world.bookings:  # staff book only for someone who has booked here
        assert (response.status_code, response.json()["errors"][0]["rule"]) == (422, "unknown_customer")
    elif not world.free(staff, start):  # a taken slot is refused before limits are counted
        assert (response.status_code, response.json()["code"]) == (409, "slot_unavailable")
    elif not by_owner and mine >= DAILY_LIMIT:
        assert (response.status_code, response.json()["code"]) == (409, "daily_limit_reached")
    else:
        assert response.status_code == 201, response.text
        assert (response.json()["status"], response.headers["etag"]) == ("confirmed", '"1"')
        world.bookings.append(Held(response.json()["id"], staff, start))


def _if_match(booking: Held, stale: bool) -> dict[str, str]:
    return {"If-Match": f'"{booking.version + 1}"'} if stale else {}


def _refusal(world: World, booking: Held, action: str, by_owner: bool) -> tuple[int, str] | None:
    """What the API must answer instead of doing `action` now, if anything."""
    now, start = world.clock.now(), booking.starts_at
    if not by_owner and action != "cancel":
        return 403, "insufficient_role"
    if (booking.status, action) not in GRAPH:
        return 409, "invalid_transition"
    if action == "confirm":
        return None
    if action == "cancel":
        late = not by_owner and now > start - FREE_CANCEL
        return (409, "cancellation_window_passed") if late else None
    if action.startswith("undo-") and booking.last != AUDITED[action.removeprefix("undo-")]:
        return 409, "nothing_to_undo"
    earliest = {"check-in": start - CHECK_IN_OPENS, "complete": start, "no-show": start + NO_SHOW_GRACE}
    if action in earliest and now < earliest[action]:
        return 409, "too_early"
    if action == "check-in" and now > start + LENGTH:
        return 409, "too_late"
    return None  # (undo windows are a day: every tick lies within them)


async def _act(world: World, booking: Held, action: str, by_owner: bool, stale: bool) -> None:
    headers = {**world.who(by_owner).headers, **_if_match(booking, stale)}
    response = await world.client.post(f"{world.shop.url}/bookings/{booking.id}/{action}", headers=headers)
    refusal = _refusal(world, booking, action, by_owner)
    if refusal is not None and refusal[0] == 403:
        assert response.status_code == 403, response.text  # refused at the guard
    elif stale:
        assert response.status_code == 412, response.text
    elif refusal is not None:
        assert (response.status_code, response.json()["code"]) == refusal, response.text
    else:
        assert response.status_code == 200, response.text
        booking.status, booking.version = GRAPH[(booking.status, action)], booking.version + 1
        booking.last = AUDITED[action]
        assert (response.json()["status"], response.json()["version"]) == (booking.status, booking.version)


async def _move(world: World, booking: Held, start: int, by_owner: bool, stale: bool) -> None:
    headers = {**world.who(by_owner).headers, **_if_match(booking, stale)}
    path = f"{world.shop.url}/bookings/{booking.id}/reschedule"
    response = await world.client.post(path, headers=headers, json={"starts_at": STARTS[start]})
    free = [s for s in range(BARBERS) if world.free(s, start, ignoring=booking.id)]
    if stale:
        assert response.status_code == 412, response.text
    elif booking.status not in ("held", "confirmed"):
        assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
    elif not free:
        assert (response.status_code, response.json()["code"]) == (409, "slot_unavailable")
    else:
        assert response.status_code == 200, response.text
        staff = world.shop.staff_ids.index(response.json()["staff_id"])
        assert staff in free  # "any staff": one who was free then
        booking.staff, booking.start, booking.version = staff, start, booking.version + 1
        assert response.json()["version"] == booking.version


async def _tick(world: World) -> None:
    """The clock moves on to the next point of tomorrow; tokens are signed anew."""
    later = [t for t in TICKS if t > world.clock.now()]
    if later:
        world.clock.current = later[0]
        world.customer = await log_in(world.client, world.customer.email, world.customer.user_id)
        owner = await log_in(world.client, world.shop.owner.email, world.shop.owner.user_id)
        world.shop = BookableShop(
            world.shop.business_id, owner, world.shop.service_id, world.shop.staff_ids, world.shop.chair_ids
        )


async def _step(world: World, op: Op) -> None:
    kind, index, value, by_owner, stale = op
    before_tomorrow = world.clock.now() == NOW  # booking and moving happen the day before
    if kind == "tick":
        await _tick(world)
    elif kind == "book" and before_tomorrow:
        await _book(world, index % BARBERS, value % len(STARTS), by_owner)
    elif world.bookings and kind in ("act", "move"):
        booking = world.bookings[index % len(world.bookings)]
        if kind == "act":
            await _act(world, booking, ACTIONS[value % len(ACTIONS)], by_owner, stale)
        elif before_tomorrow:
            await _move(world, booking, value % len(STARTS), by_owner, stale)
    await _check(world)


async def _check(world: World) -> None:
    async with world.db.transaction(tenant_id=world.shop.business_id) as session:
        rows = await session.execute(
            text(
                "SELECT b.id::text, b.status::text, b.version, b.staff_id::text, b.starts_at,"
                " (SELECT count(*) FROM allocation a WHERE a.business_id = b.business_id"
                "  AND a.booking_id = b.id AND a.active),"
                " (SELECT count(*) FROM allocation a WHERE a.business_id = b.business_id"
                "  AND a.booking_id = b.id AND a.active"
                "  AND a.staff_id = b.staff_id"
                "  AND a.period = tstzrange(b.starts_at, b.ends_at + interval '5 min')),"
                " (SELECT array_agg(c.action || ':' || c.to_status ORDER BY c.id)"
                "  FROM booking_status_change c WHERE c.business_id = b.business_id AND c.booking_id = b.id)"
                " FROM booking b"
            )
        )
        stored = {row[0]: row[1:] for row in rows}
    assert set(stored) == {b.id for b in world.bookings}
    for b in world.bookings:
        status, version, staff_id, starts_at, active, matching, audit = stored[b.id]
        expected = (b.status, b.version, world.shop.staff_ids[b.staff], b.starts_at)
        assert (status, version, staff_id, starts_at) == expected
        blocks = int(b.status in BLOCKING)
        assert (active, matching) == (blocks, blocks)
        assert audit[-1] == f"{b.last}:{b.status}"  # the audit's latest entry is the status
    if world.clock.now() != NOW:
        return  # (tomorrow's starts are past: nothing is offered any more)
    for staff in range(BARBERS):
        query = {
            "service_id": world.shop.service_id,
            "staff_id": world.shop.staff_ids[staff],
            "from": "2026-11-25T00:00:00+02:00",
            "to": "2026-11-26T00:00:00+02:00",
        }
        listed = await world.client.get(
            f"{world.shop.url}/availability", headers=world.customer.headers, params=query
        )
        offered = {slot["starts_at_local"] for slot in listed.json()["slots"]}
        assert {s for s in STARTS if s in offered} == {
            s for i, s in enumerate(STARTS) if world.free(staff, i)
        }


async def _run(database_url: str, app_settings: Settings, sequence: list[Op]) -> None:
    clock = FakeClock(NOW)
    async with in_process_api(database_url, app_settings, clock) as (client, db):
        shop = await open_bookable_shop(client, barbers=BARBERS)
        world = World(client, db, clock, shop, await sign_up(client, "customer"))
        for op in sequence:
            await _step(world, op)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=ops)
def test_bookings_follow_the_model(database_url: str, settings: Settings, sequence: list[Op]) -> None:
    asyncio.run(_run(database_url, settings, sequence))
