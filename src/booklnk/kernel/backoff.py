"""How long to wait before starting again something that keeps failing (a worker whose
database is gone, a child process that died)."""

from __future__ import annotations

import random

FIRST_SECONDS = 1.0
CAP_SECONDS = 10.0


def restart_delay(failures: int, *, first: float = FIRST_SECONDS, cap: float = CAP_SECONDS) -> float:
    """Seconds to wait after the `failures`-th failure in a row (1, 2, …): doubling from
    `first` up to `cap`, each drawn from its upper half, so processes that lost the same
    database at the same moment do not all come back in step."""
    if failures < 1:
        raise ValueError("failures counts from 1")
    ceiling = min(cap, first * 2 ** min(failures - 1, 32))
    return random.uniform(ceiling / 2, ceiling)
