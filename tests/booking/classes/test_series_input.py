"""Nothing a caller sends as a class series can hang the API: random RRULEs and dates,
absurd ones included, are answered within a bound, with 2xx or 4xx (hypothesis, over
HTTP). And the defects seen: INTERVAL=0 froze the event loop, a start on 0001-01-01
answered 500, one on 9999-12-31 was stored as infinity.

The API runs as its own process (`booklnk serve`), so a request that blocked its event
loop would show as a client timeout here instead of freezing the test itself."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from class_support import Gym, open_gym
from race_support import LiveServer, running_server

ANSWER_WITHIN = 10.0  # seconds: a liveness bound (a hang never answers), not a speed claim

FREQS = st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY", "HOURLY", "SECONDLY", "daily", ""])
NUMBERS = st.one_of(st.integers(-5, 40), st.sampled_from([0, 366, 367, 10_000, 10**9, 2**63]))
PARTS = st.one_of(
    st.builds(lambda n: f"INTERVAL={n}", NUMBERS),
    st.builds(lambda n: f"COUNT={n}", NUMBERS),
    st.builds(
        lambda d: f"UNTIL={d}",
        st.sampled_from(["20261231", "00010101", "99991231", "2026", "20261231T235959Z"]),
    ),
    st.builds(lambda m: f"BYMONTH={m}", st.sampled_from(["2", "2,4", "13", "0", "-1"])),
    st.builds(lambda d: f"BYMONTHDAY={d}", st.sampled_from(["30", "31", "-1", "29,30,31", "32", "0"])),
    st.builds(lambda d: f"BYDAY={d}", st.sampled_from(["MO", "5MO", "-1FR", "53MO", "MO,TU", "XX"])),
    st.sampled_from(["BYSETPOS=1", "BYWEEKNO=53", "BYYEARDAY=366", "WKST=SU", "BYHOUR=10", "X=1"]),
)
RULES = st.one_of(
    st.builds(lambda freq, parts: ";".join([f"FREQ={freq}", *parts]), FREQS, st.lists(PARTS, max_size=4)),
    st.text(max_size=80),
)
DATES = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["0001-01-01", "9999-12-31", "2026-11-24", "2026-02-30", "20261124"]),
)


@pytest.fixture(scope="module")
def live_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with running_server(database_url, tmp_path_factory) as server:
        yield server


async def _publish(client: httpx.AsyncClient, gym: Gym, rrule: str, starts_on: str) -> httpx.Response:
    body = {
        "service_id": gym.service_id,
        "staff_id": gym.staff_id,
        "rrule": rrule,
        "starts_on": starts_on,
        "start_time": "18:00",
    }
    return await client.post(f"{gym.base}/class-series", headers=gym.owner.headers, json=body)


async def _answers(server: LiveServer, cases: list[tuple[str, str]]) -> list[int]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=ANSWER_WITHIN) as client:
        gym = await open_gym(client)
        return [(await _publish(client, gym, rule, day)).status_code for rule, day in cases]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases=st.lists(st.tuples(RULES, DATES), min_size=1, max_size=6))
def test_any_series_is_answered_in_time_with_2xx_or_4xx(
    live_server: LiveServer, cases: list[tuple[str, str]]
) -> None:
    statuses = asyncio.run(_answers(live_server, cases))  # a timeout raises: no answer in time
    assert all(200 <= s < 300 or 400 <= s < 500 for s in statuses), list(zip(cases, statuses, strict=True))


async def test_the_defects_seen_answer_422_naming_the_field(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=ANSWER_WITHIN) as client:
        await _defects(client)


async def _defects(client: httpx.AsyncClient) -> None:
    gym = await open_gym(client)
    for rrule, day, field, rule in (
        ("FREQ=WEEKLY;INTERVAL=0", "2026-11-24", "body.rrule", "interval_out_of_range"),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "2026-11-24", "body.rrule", "no_occurrences"),
        ("FREQ=WEEKLY;BYDAY=TU", "0001-01-01", "body.starts_on", "greater_than_equal"),
        ("FREQ=WEEKLY;BYDAY=TU", "9999-12-31", "body.starts_on", "less_than_equal"),
    ):
        answer = await _publish(client, gym, rrule, day)
        assert answer.status_code == 422, (rrule, day, answer.text)
        assert (answer.json()["errors"][0]["field"], answer.json()["errors"][0]["rule"]) == (field, rule)
