"""A per-key request rate limit, kept in this process's memory (pure: time is passed in).

The generic cell rate algorithm (GCRA), the token bucket's exact twin: each key keeps one
number, its "theoretical arrival time" (TAT). A request is admitted when, counting it, the
TAT lies at most one period ahead of now; it then moves the TAT one emission interval
(period / limit) further. So a key may send `limit` requests at once, then one every
emission interval, and a refused request learns exactly how long to wait.

The state is one process's: a deployment with N server processes admits up to N times the
limit per address. A lock makes each decision atomic, so concurrent requests (threads or
tasks) can never slip past the limit together.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

_SLACK = 1e-3  # seconds: a millisecond early at most, never a refused burst


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after_seconds: int = 0  # whole seconds, at least 1 when refused


class RateLimiter:
    """At most `limit` requests per `period_seconds` per key, bursts of `limit` included.

    At most `max_keys` keys are remembered: past that, the least recently seen are
    forgotten first (a forgotten key starts afresh), so memory stays bounded whatever
    the number of distinct callers."""

    def __init__(
        self,
        limit: int,
        period_seconds: float,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or period_seconds <= 0 or max_keys < 1:
            raise ValueError("limit, period_seconds and max_keys must be positive")
        self.limit = limit
        self.period = float(period_seconds)
        self.interval = self.period / limit
        self.max_keys = max_keys
        self.clock = clock
        self._tat: OrderedDict[str, float] = OrderedDict()  # least recently seen first
        self._lock = threading.Lock()

    def take(self, key: str) -> Decision:
        """Admit one request of `key` now, or say how long it must wait."""
        with self._lock:
            now = self.clock()
            self._forget_idle(now)
            # How far ahead of now the TAT would be, counting this request. Floating point
            # rounds ((now + 60) - now on a clock far from zero; nine ninths of a second):
            # a millisecond's slack keeps a burst of `limit` whole.
            ahead = max(self._tat.get(key, now) - now, 0.0) + self.interval
            if ahead - self.period > _SLACK:
                # Admitted once the TAT (counting this request) is one period ahead at most.
                return Decision(False, max(1, math.ceil(ahead - self.period)))
            self._tat[key] = now + ahead
            self._tat.move_to_end(key)
            while len(self._tat) > self.max_keys:
                self._tat.popitem(last=False)
            return Decision(True)

    def _forget_idle(self, now: float) -> None:
        # A key whose TAT has passed is as good as new: drop it. The oldest-seen keys come
        # first; stop at the first one still active (amortized O(1) per request).
        while self._tat:
            key, tat = next(iter(self._tat.items()))
            if tat > now:
                return
            del self._tat[key]

    def __len__(self) -> int:
        return len(self._tat)
