"""The booking benchmark's scenario (the shop, its calendar, the days each phase uses, the
load) and its time budgets, full and --quick."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time as clock_time
from datetime import timedelta

# The scenario. 50 staff x 50 days x 8 bookings = 20,000 seeded bookings.
STAFF = 50
SEED_DAYS = 50  # local dates D+1 .. D+50 carry the seeded bookings
BLOCKS_PER_DAY = 16  # 09:00-21:00 cut in 45-minute blocks ...
BOOKED_BLOCKS = 8  # ... of which each staff member has 8 booked per day, at random
BLOCK = timedelta(minutes=45)
OPENS, CLOSES = clock_time(9), clock_time(21)
DURATION = timedelta(minutes=30)  # the service's only duration
BUFFER_AFTER = timedelta(minutes=5)  # the barbershop type's default: blocked = 35 minutes
HORIZON_DAYS = 90  # overridden from the type's 30 so a 31-day window is all bookable
FREE_DAYS = range(51, 81)  # untouched days: the uncontended bookings (b) take slots here
RACE_DAY = 85  # the contended race (c) happens on this day
CUSTOMERS = 200
RACE_CLIENTS, RACE_SLOTS = 200, 20
CONCURRENCY = 12  # requests in flight for (b) and both ceilings

assert DURATION + BUFFER_AFTER <= BLOCK, "seeded bookings must not overlap on a lane"
assert STAFF * SEED_DAYS * BOOKED_BLOCKS == 20_000


@dataclass(frozen=True)
class Budget:
    """Per latency case: (max iterations, max seconds); per throughput phase: seconds."""

    engine: tuple[int, float]
    in_process: tuple[int, float]
    http: tuple[int, float]
    uncontended_seconds: float
    ceiling_seconds: float
    slice_seconds: float  # (e): each of the alternating booking and stack-ceiling slices


FULL = Budget(
    (300, 6.0), (80, 8.0), (80, 10.0), uncontended_seconds=20.0, ceiling_seconds=8.0, slice_seconds=4.0
)
QUICK = Budget(
    (40, 1.0), (10, 1.5), (10, 2.0), uncontended_seconds=5.0, ceiling_seconds=2.5, slice_seconds=1.5
)
SLICES = 3  # (e): rounds of one booking slice then one stack-ceiling slice
