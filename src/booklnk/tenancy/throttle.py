"""When a login attempt may be tried (pure: the records and the time are passed in).

A key (an account from one client address, or a client address for all accounts) has a
record: how many failures it has, when the last one was, and when they are forgotten.
Its first `free_failures` failures cost nothing; after those, each further attempt must
wait 2^k seconds since the last failure (k = failures past the free ones), up to
`max_delay_seconds`. Guessing slows down exponentially; an owner's own attempts from
another address are never delayed by a stranger's failures.

An attempt reserves its failure before the password is checked (`reserve`), so
concurrent attempts cannot all read "still allowed"; a success gives it back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Policy:
    free_failures: int
    max_delay_seconds: int
    # Failures are forgotten once this long has passed without another one.
    forget_after_seconds: int


@dataclass(frozen=True, slots=True)
class Record:
    failures: int
    last_failure_at: datetime
    forget_at: datetime


def delay_seconds(failures: int, policy: Policy) -> int:
    """How long after the last failure the next attempt must wait."""
    if failures < policy.free_failures:
        return 0
    past = failures - policy.free_failures
    # 2^past grows without bound: compare exponents first (the cap is small).
    if past >= policy.max_delay_seconds.bit_length():
        return policy.max_delay_seconds
    return min(1 << past, policy.max_delay_seconds)


def failures_at(record: Record | None, now: datetime) -> int:
    return 0 if record is None or now >= record.forget_at else record.failures


def wait_seconds(record: Record | None, now: datetime, policy: Policy) -> int:
    """Whole seconds before an attempt may be tried (0: now)."""
    failures = failures_at(record, now)
    delay = delay_seconds(failures, policy)
    if record is None or delay == 0:
        # Within the free failures no wait at all: a concurrent attempt's reservation may
        # be stamped a moment after this one's `now`, which must not round up to a second.
        return 0
    ready = record.last_failure_at + timedelta(seconds=delay)
    return max(0, math.ceil((ready - now).total_seconds()))


def reserve(record: Record | None, now: datetime, policy: Policy) -> Record:
    """The record once this attempt is counted as a failure (given back if it succeeds)."""
    return Record(
        failures=failures_at(record, now) + 1,
        last_failure_at=now,
        forget_at=now + timedelta(seconds=policy.forget_after_seconds),
    )


def give_back(record: Record) -> Record:
    """A reserved attempt that succeeded: one failure fewer."""
    return Record(max(0, record.failures - 1), record.last_failure_at, record.forget_at)
