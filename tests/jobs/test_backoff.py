"""The restart backoff: doubling from a second up to a cap, drawn from the upper half."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booklnk.kernel.backoff import CAP_SECONDS, FIRST_SECONDS, restart_delay


@given(st.integers(min_value=1, max_value=10_000))
def test_a_delay_lies_in_the_upper_half_of_its_doubling_ceiling(failures: int) -> None:
    ceiling = CAP_SECONDS if failures > 20 else min(CAP_SECONDS, FIRST_SECONDS * 2 ** (failures - 1))
    assert ceiling / 2 <= restart_delay(failures) <= ceiling


def test_the_first_restart_is_quick_and_a_long_outage_waits_at_most_the_cap() -> None:
    assert restart_delay(1) <= FIRST_SECONDS
    assert max(restart_delay(40) for _ in range(100)) <= CAP_SECONDS


@pytest.mark.parametrize("failures", [0, -1])
def test_failures_count_from_one(failures: int) -> None:
    with pytest.raises(ValueError, match="from 1"):
        restart_delay(failures)
