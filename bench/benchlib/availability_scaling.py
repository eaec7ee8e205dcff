"""Availability scaling: `GET /availability` over 1 to 62 days for a service performed by
1 to 200 barbers, for one named barber and for "any" (also in the compact shape, `GET
/availability/compact`), timed through HTTP (sequential requests, the whole body received)
with the size of the answer."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx

from benchlib.output import log
from benchlib.stack_shop import StackShop, day_window
from benchlib.stats import latency

SLOW = 0.25  # seconds: a case whose first answer takes longer gets one warm-up call, not two


@dataclass(frozen=True)
class ScaleCase:
    days: int
    staff: int  # the barbers who perform the service
    named: bool  # one named barber (the first, who performs every service), or any of `staff`
    compact: bool = False  # the compact shape (`/availability/compact`)

    @property
    def who(self) -> str:
        return "named" if self.named else "any, compact" if self.compact else "any"

    @property
    def label(self) -> str:
        who = "one named" if self.named else f"any of {self.staff}" + (", compact" if self.compact else "")
        return f"{self.days} d, {who} (service of {self.staff})"


@dataclass(frozen=True)
class Repeats:
    """Per case: at most `samples` timed requests, and no more once `seconds` have passed,
    but never fewer than `minimum`."""

    samples: int
    seconds: float
    minimum: int = 5


async def measure_case(
    http: httpx.AsyncClient, stack: StackShop, case: ScaleCase, repeats: Repeats
) -> dict[str, Any]:
    start, end = day_window(stack, case.days)
    params = {"service_id": str(stack.services[case.staff]), "from": start.isoformat(), "to": end.isoformat()}
    if case.named:
        params["staff_id"] = str(stack.staff[0])
    url = f"{stack.shop.url}/availability" + ("/compact" if case.compact else "")
    statuses: Counter[str] = Counter()
    shape: dict[str, Any] = {}

    async def get() -> float:
        began = time.perf_counter()
        response = await http.get(url, params=params, headers=stack.shop.owner.headers)
        body = response.content  # read fully: receiving the answer is part of the figure
        elapsed = time.perf_counter() - began
        statuses[str(response.status_code)] += 1
        if response.status_code == 200 and not shape:
            answer = json.loads(body)
            if case.compact:
                sets = len(answer["staff_sets"])
                shape.update(bytes=len(body), slots=len(answer["starts_at_local"]), staff_sets=sets)
            else:
                staff_ids = sum(len(s["staff_ids"]) for s in answer["slots"])
                shape.update(bytes=len(body), slots=len(answer["slots"]), staff_ids_listed=staff_ids)
        return elapsed

    warmups = 1 if await get() > SLOW else 2
    for _ in range(warmups - 1):
        await get()
    samples: list[float] = []
    deadline = time.perf_counter() + repeats.seconds
    while len(samples) < repeats.samples and (
        len(samples) < repeats.minimum or time.perf_counter() < deadline
    ):
        samples.append(await get())
    return {
        "days": case.days,
        "staff": case.staff,
        "who": case.who,
        "case": case.label,
        **shape,
        "statuses": dict(statuses),
        **latency(samples),
    }


WAYS = ((True, False), (False, False), (False, True))  # (named, compact): named, any, any compact


def grid(days: list[int], staff: list[int]) -> list[ScaleCase]:
    return [ScaleCase(d, s, named, compact) for s in staff for named, compact in WAYS for d in days]


def goal_cases() -> list[ScaleCase]:
    """The issue's availability goals: one named over 14 days, any of 50 over 14 days,
    any of 200 over 62 days (the last two in both shapes)."""
    return [
        ScaleCase(14, 50, True),
        ScaleCase(14, 50, False),
        ScaleCase(14, 50, False, compact=True),
        ScaleCase(62, 200, False),
        ScaleCase(62, 200, False, compact=True),
    ]


async def measure_scaling(
    http: httpx.AsyncClient, stack: StackShop, cases: list[ScaleCase], repeats: Repeats
) -> list[dict[str, Any]]:
    results = []
    for case in cases:
        result = await measure_case(http, stack, case, repeats)
        log(
            f"  {case.label}: p50 {result['p50_ms']:.1f} ms,"
            f" {result.get('bytes', 0):,} bytes, n={result['n']}"
        )
        results.append(result)
    return results
