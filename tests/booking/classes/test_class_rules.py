"""One timing rule for appointments and class seats: the sessions a customer is offered
are exactly the sessions a seat booking accepts (grid, minimum notice, and the horizon in
whole local days, as `scheduling.rules.BookingTime` has them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from class_support import Gym, open_gym, publish, take_seat
from support import Account, FakeClock, log_in, sign_up

DAILY = "FREQ=DAILY;COUNT=20"  # 18:00 Cairo (16:00 UTC) from Tuesday 2026-11-24
WINDOW = {"from": "2026-11-23T00:00:00+02:00", "to": "2026-12-20T00:00:00+02:00"}


async def _sessions(client: httpx.AsyncClient, gym: Gym, who: Account) -> list[dict[str, Any]]:
    response = await client.get(f"{gym.base}/class-sessions", headers=who.headers, params=WINDOW)
    assert response.status_code == 200, response.text
    sessions: list[dict[str, Any]] = response.json()["items"]
    return sessions


async def _gym_with_a_shorter_horizon(client: httpx.AsyncClient) -> Gym:
    """Sessions stored for 14 days, then the horizon cut to 7: some stored sessions are
    beyond what customers may book (minimum notice: the gym's 60 minutes)."""
    gym = await open_gym(client, pay_at_venue=True, capacity=10)
    overrides = {"payment_policy": "pay_at_venue", "horizon_days": 14}
    raised = await client.patch(gym.base, headers=gym.owner.headers, json={"rule_overrides": overrides})
    assert raised.status_code == 200, raised.text
    await publish(client, gym, rrule=DAILY)
    cut = await client.patch(
        gym.base, headers=gym.owner.headers, json={"rule_overrides": {**overrides, "horizon_days": 7}}
    )
    assert cut.status_code == 200, cut.text
    return gym


@pytest.mark.parametrize(
    ("now", "first_offered", "last_offered"),
    [
        # Publishing day: the last offered date is today + 7, whatever the time of day.
        ("2026-11-24T11:00:00+02:00", "2026-11-24", "2026-12-01"),
        ("2026-11-24T16:59:00+02:00", "2026-11-24", "2026-12-01"),  # 61 minutes ahead: bookable
        ("2026-11-24T17:01:00+02:00", "2026-11-25", "2026-12-01"),  # 59 minutes: inside the notice
        ("2026-11-24T23:59:59+02:00", "2026-11-25", "2026-12-01"),
        ("2026-11-25T00:00:00+02:00", "2026-11-25", "2026-12-02"),  # the horizon moves at midnight
    ],
)
async def test_every_offered_session_is_bookable_and_no_other(
    client: httpx.AsyncClient, clock: FakeClock, now: str, first_offered: str, last_offered: str
) -> None:
    gym = await _gym_with_a_shorter_horizon(client)
    clock.current = datetime.fromisoformat(now)
    customer = await sign_up(client, "member")
    owner = await log_in(client, gym.owner.email, gym.owner.user_id)  # the clock moved past its token
    stored = await _sessions(client, gym, owner)
    offered = await _sessions(client, gym, customer)
    assert (offered[0]["starts_at"][:10], offered[-1]["starts_at"][:10]) == (first_offered, last_offered)
    listed = await client.get(
        f"{gym.base}/availability", headers=customer.headers, params={"service_id": gym.service_id, **WINDOW}
    )
    assert [s["id"] for s in listed.json()["sessions"]] == [s["id"] for s in offered]

    accepted: list[str] = []
    refused: dict[str, str] = {}
    for s in stored:
        if datetime.fromisoformat(s["starts_at"]) <= clock.current:
            continue  # started: closed to everyone
        response = await take_seat(client, gym, s["id"], customer)
        if response.status_code == 201:
            accepted.append(s["id"])
        else:
            assert response.status_code == 422, response.text
            refused[s["starts_at"][:10]] = response.json()["errors"][0]["rule"]
    assert accepted == [s["id"] for s in offered]
    assert set(refused.values()) <= {"inside_min_notice", "beyond_horizon"}
    assert "beyond_horizon" in refused.values()
