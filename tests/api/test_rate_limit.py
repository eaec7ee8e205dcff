"""The in-memory rate limiter behind the public reads (pure: the clock is a number)."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booklnk.api.rate_limit import RateLimiter


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_the_limit_passes_then_the_next_waits_one_interval() -> None:
    ticks = Ticks()
    limiter = RateLimiter(60, 60, clock=ticks)
    assert all(limiter.take("a").allowed for _ in range(60))
    refused = limiter.take("a")
    assert not refused.allowed
    assert refused.retry_after_seconds == 1  # one request a second comes back
    ticks.now += 1
    assert limiter.take("a").allowed
    assert not limiter.take("a").allowed


def test_retry_after_says_when_the_next_request_passes() -> None:
    ticks = Ticks()
    limiter = RateLimiter(3, 60, clock=ticks)
    assert [limiter.take("a").allowed for _ in range(4)] == [True, True, True, False]
    wait = limiter.take("a").retry_after_seconds
    assert wait == 20
    ticks.now += wait - 1
    assert not limiter.take("a").allowed
    ticks.now += 1
    assert limiter.take("a").allowed


def test_keys_are_counted_apart_and_refusals_cost_nothing() -> None:
    ticks = Ticks()
    limiter = RateLimiter(2, 60, clock=ticks)
    assert limiter.take("a").allowed
    assert limiter.take("a").allowed
    for _ in range(100):  # hammering while refused does not push the wait further
        assert not limiter.take("a").allowed
    assert limiter.take("b").allowed
    ticks.now += 30
    assert limiter.take("a").allowed


def test_idle_keys_are_forgotten_and_memory_is_bounded() -> None:
    ticks = Ticks()
    limiter = RateLimiter(5, 60, max_keys=100, clock=ticks)
    for i in range(1000):
        assert limiter.take(f"10.0.{i // 256}.{i % 256}").allowed
    assert len(limiter) == 100
    ticks.now += 60
    limiter.take("late")
    assert len(limiter) == 1


def test_concurrent_takes_never_pass_more_than_the_limit() -> None:
    """Eight threads taking at once from one key (time stands still): exactly the limit
    passes. Without the lock, two threads could read the same TAT and both pass."""
    limiter = RateLimiter(60, 60, clock=Ticks())
    passed: list[bool] = []
    barrier = threading.Barrier(8)

    def hammer() -> None:
        barrier.wait()
        mine = [limiter.take("one-address").allowed for _ in range(200)]
        passed.extend(mine)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(passed) == 60


@pytest.mark.parametrize(("limit", "period", "keys"), [(0, 60, 1), (1, 0, 1), (1, 60, 0)])
def test_nonsense_limits_are_refused(limit: int, period: float, keys: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(limit, period, max_keys=keys)


@given(
    st.floats(min_value=0, max_value=1e9, allow_nan=False),
    st.integers(1, 100),
    st.sampled_from([1.0, 60.0, 3600.0]),
)
def test_a_first_burst_passes_whatever_the_clock_reads(start: float, limit: int, period: float) -> None:
    # (now + 60) - now is not always 60 in floating point: a first request with a limit of
    # one was refused on a clock far from zero.
    limiter = RateLimiter(limit, period, clock=lambda: start)
    assert all(limiter.take("a").allowed for _ in range(limit))
    assert not limiter.take("a").allowed
