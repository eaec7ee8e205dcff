"""Statistics and load shapes: nearest-rank percentiles and latency summaries, a closed
loop (N requests in flight for a time) and sequential sampling after a warm-up."""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

WARMUP = 3  # discarded iterations per latency case
MIN_SAMPLES = 5  # taken even when a case's time budget has run out


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: every figure reported is a latency actually observed."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def latency(seconds: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    figures = {f"p{q}_ms": percentile(ms, q) for q in (50, 95, 99)}
    return {"n": len(ms), **figures, "mean_ms": sum(ms) / len(ms), "max_ms": max(ms)}


@dataclass
class LoopResult:
    elapsed: float
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)

    def summary(self, ok: str) -> dict[str, Any]:
        done = self.outcomes[ok]
        return {
            "ops": sum(self.outcomes.values()),
            "ok": done,
            "per_second": done / self.elapsed,
            "seconds": self.elapsed,
            "outcomes": dict(self.outcomes),
            **latency(self.latencies),
        }


async def closed_loop(
    op: Callable[[int], Awaitable[str]], *, concurrency: int, seconds: float, limit: int
) -> LoopResult:
    """`concurrency` workers call op(0), op(1), ... back to back until `seconds` pass or
    `limit` calls started; each call's outcome label and latency are kept."""
    numbers = itertools.count()
    deadline = time.perf_counter() + seconds
    result = LoopResult(elapsed=0.0)

    async def worker() -> None:
        while time.perf_counter() < deadline and (i := next(numbers)) < limit:
            started = time.perf_counter()
            outcome = await op(i)
            result.latencies.append(time.perf_counter() - started)
            result.outcomes[outcome] += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - started
    return result


async def sample(measure: Callable[[], Awaitable[float]], budget: tuple[int, float]) -> list[float]:
    """Sequential samples (one at a time: latency, not throughput), after a warm-up."""
    for _ in range(WARMUP):
        await measure()
    iterations, seconds = budget
    deadline = time.perf_counter() + seconds
    samples: list[float] = []
    while len(samples) < iterations and (len(samples) < MIN_SAMPLES or time.perf_counter() < deadline):
        samples.append(await measure())
    return samples
