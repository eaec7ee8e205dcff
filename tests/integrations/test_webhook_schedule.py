"""The retry schedule and the disable decision (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from booklnk.integrations.schedule import (
    DISABLE_AFTER,
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    next_attempt_at,
    should_disable,
)

_NAIVE = {"min_value": datetime(2000, 1, 1), "max_value": datetime(2199, 1, 1)}  # noqa: DTZ001
instants = st.datetimes(**_NAIVE, timezones=st.just(UTC))


def test_the_schedule_is_the_specs_example_about_a_day() -> None:
    assert [int(d.total_seconds()) for d in RETRY_DELAYS] == [5, 300, 1800, 7200, 18000, 36000, 36000]
    assert MAX_ATTEMPTS == 8
    assert timedelta(hours=24) < sum(RETRY_DELAYS, timedelta()) < timedelta(hours=30)


@given(failed_at=instants, failures=st.integers(min_value=1, max_value=50))
def test_each_retry_comes_later_and_the_schedule_ends(failed_at: datetime, failures: int) -> None:
    at = next_attempt_at(failures, failed_at)
    if failures <= len(RETRY_DELAYS):
        assert at is not None
        assert at > failed_at
        if failures > 1:  # waits never shrink
            assert at - failed_at >= RETRY_DELAYS[failures - 2]
    else:
        assert at is None


@given(failing_since=instants, elapsed=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)))
def test_an_endpoint_is_disabled_exactly_after_five_days_of_failures(
    failing_since: datetime, elapsed: timedelta
) -> None:
    now = failing_since + elapsed
    assert should_disable(failing_since, now, status_code=500) is (elapsed >= DISABLE_AFTER)
    assert should_disable(failing_since, now, status_code=None) is (elapsed >= DISABLE_AFTER)
    assert should_disable(failing_since, now, status_code=410)  # Gone: at once
    assert not should_disable(None, now, status_code=503)
