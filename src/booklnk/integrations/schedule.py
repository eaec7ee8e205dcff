"""When a failed delivery is tried again, and when an endpoint has failed for too long
(pure: a clock's `now` and counts in, instants out).

The schedule is the Standard Webhooks example: at once, then 5 s, 5 min, 30 min, 2 h,
5 h, 10 h and 10 h after each failure (eight attempts over some 27.6 hours). An endpoint
whose every attempt has failed for `DISABLE_AFTER` (five days: several messages' whole
schedules) is disabled; so is one that answers 410 Gone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
DISABLE_AFTER = timedelta(days=5)
GONE = 410


def next_attempt_at(failures: int, failed_at: datetime) -> datetime | None:
    """After the `failures`-th failed attempt (1-based) of a message, when to try again;
    None once the schedule is spent."""
    if failures < 1:
        raise ValueError("failures counts from 1")
    if failures > len(RETRY_DELAYS):
        return None
    return failed_at + RETRY_DELAYS[failures - 1]


def should_disable(failing_since: datetime | None, now: datetime, *, status_code: int | None) -> bool:
    """After a failed attempt: is the endpoint to be disabled? `failing_since` is its first
    failure since it last answered 2xx."""
    if status_code == GONE:
        return True
    return failing_since is not None and now - failing_since >= DISABLE_AFTER


def disable_reason(failing_since: datetime | None, *, status_code: int | None) -> str:
    if status_code == GONE:
        return "The endpoint answered 410 Gone."
    since = failing_since.isoformat() if failing_since else "?"
    return f"Every delivery attempt failed since {since} (five days or more)."
