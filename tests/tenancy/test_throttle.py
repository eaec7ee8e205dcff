"""The login throttle's decisions (pure: records and time are passed in)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from booklnk.tenancy import throttle
from booklnk.tenancy.throttle import Policy, Record

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
POLICY = Policy(free_failures=5, max_delay_seconds=900, forget_after_seconds=86400)


def test_the_free_failures_cost_nothing_then_delays_double_up_to_the_cap() -> None:
    assert [throttle.delay_seconds(f, POLICY) for f in range(4, 17)] == [
        0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900,
    ]  # fmt: skip
    assert throttle.delay_seconds(10**9, POLICY) == 900  # no 2**1e9 is ever computed


def test_an_attempt_waits_the_delay_since_the_last_failure() -> None:
    record = None
    for _ in range(5):
        assert throttle.wait_seconds(record, NOW, POLICY) == 0
        record = throttle.reserve(record, NOW, POLICY)
    assert throttle.wait_seconds(record, NOW, POLICY) == 1
    assert throttle.wait_seconds(record, NOW + timedelta(milliseconds=200), POLICY) == 1  # rounded up
    later = NOW + timedelta(seconds=1)
    assert throttle.wait_seconds(record, later, POLICY) == 0
    record = throttle.reserve(record, later, POLICY)
    assert record.failures == 6
    assert throttle.wait_seconds(record, later, POLICY) == 2


def test_failures_are_forgotten_after_a_quiet_spell() -> None:
    record = Record(40, NOW, NOW + timedelta(days=1))
    assert throttle.wait_seconds(record, NOW + timedelta(seconds=899), POLICY) == 1
    assert throttle.wait_seconds(record, NOW + timedelta(days=1), POLICY) == 0
    assert throttle.reserve(record, NOW + timedelta(days=1), POLICY).failures == 1


def test_a_success_gives_its_reserved_failure_back() -> None:
    record = throttle.reserve(None, NOW, POLICY)
    assert throttle.give_back(record).failures == 0
    assert throttle.give_back(throttle.give_back(record)).failures == 0


def test_within_the_free_failures_a_concurrent_reservation_stamped_later_costs_nothing() -> None:
    """Good logins from one office at once: another attempt's reservation, stamped a moment
    after this attempt's `now`, made it wait a rounded-up second (17 of 80 concurrent good
    logins across two server processes answered 429 `login_throttled`)."""
    later = NOW + timedelta(milliseconds=3)
    record = Record(failures=8, last_failure_at=later, forget_at=later + timedelta(minutes=15))
    assert throttle.wait_seconds(record, NOW, Policy(100, 900, 900)) == 0
