"""Busy time as integer microseconds since the Unix epoch: the form the database sends it in
and the availability engine sweeps it in. Pure.

A large crew's calendar is a hundred thousand busy periods (any of 200 barbers over 62
days). As timestamps, the driver spent about 70 ms building their datetimes, and every
comparison and sum in the engine's sweeps built more; as integers, both cost what ints
cost. Microseconds are the database's own resolution, so the conversion is exact both ways.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from booklnk.scheduling.intervals import Interval, coalesce, runs_overlap

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(instant: datetime) -> int:
    """An aware instant as microseconds since the epoch."""
    return (instant - EPOCH) // _MICROSECOND


def micros_long(span: timedelta) -> int:
    """A length of time in microseconds."""
    return span // _MICROSECOND


@dataclass(frozen=True, slots=True)
class Busy:
    """Blocked time: sorted, disjoint, coalesced [start, end) pairs in epoch microseconds."""

    starts: tuple[int, ...] = ()
    ends: tuple[int, ...] = ()

    @classmethod
    def from_arrays(cls, starts: Sequence[int], ends: Sequence[int]) -> Busy:
        """From the periods' starts and ends, pair by pair, in any order (as the database
        sends them: sorting them there cost more than sorting integers here). Touching
        periods of back-to-back bookings merge."""
        return cls(*coalesce(sorted(zip(starts, ends, strict=True))))

    @classmethod
    def of(cls, intervals: Iterable[Interval]) -> Busy:
        """From intervals in any order."""
        return cls(*coalesce(sorted((micros(i.start), micros(i.end)) for i in intervals)))

    def __bool__(self) -> bool:
        return bool(self.starts)

    def overlaps(self, interval: Interval) -> bool:
        """Whether any busy period shares at least one instant with `interval`."""
        return runs_overlap(self.starts, self.ends, micros(interval.start), micros(interval.end))
