"""Half-open UTC intervals [start, end) and sorted, disjoint sets of them. Pure.

Every endpoint is an aware datetime normalised to ``datetime.UTC``. That is not only
tidiness: CPython compares and subtracts aware datetimes that share the *same* tzinfo
object without calling ``utcoffset()``, so the sweeps below run at the speed of naive ones.

An ``IntervalSet`` keeps its intervals sorted, disjoint and coalesced (touching intervals
merge: [9, 10) and [10, 11) are [9, 11)), in two parallel tuples of starts and ends, so
every operation is a linear two-pointer sweep and every lookup a ``bisect``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

# The sweeps below serve two kinds of endpoint: aware UTC datetimes (`IntervalSet`) and
# integer microseconds since the epoch (`busy.Busy`, the availability engine's bulk form).
Point = TypeVar("Point", datetime, int)


def as_utc(instant: datetime) -> datetime:
    """The same instant with ``datetime.UTC`` as its tzinfo; naive datetimes are refused."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{instant!r} has no UTC offset; give an aware datetime")
    return instant if instant.tzinfo is UTC else instant.astimezone(UTC)


@dataclass(frozen=True, slots=True, order=True)
class Interval:
    """[start, end): contains start, excludes end; never empty."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", as_utc(self.start))
        object.__setattr__(self, "end", as_utc(self.end))
        if self.end <= self.start:
            raise ValueError(f"empty interval: {self.start.isoformat()} .. {self.end.isoformat()}")

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        return self.start <= other.start and other.end <= self.end


class IntervalSet:
    """An immutable union of intervals, stored sorted, disjoint and coalesced."""

    __slots__ = ("_ends", "_starts")

    def __init__(self, intervals: Iterable[Interval] = ()) -> None:
        starts, ends = coalesce(sorted((i.start, i.end) for i in intervals))
        self._starts: tuple[datetime, ...] = starts
        self._ends: tuple[datetime, ...] = ends

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[datetime, datetime]]) -> IntervalSet:
        """From (start, end) pairs already in UTC and non-empty, as read back from the
        database: sorted and coalesced without building an `Interval` per pair (thousands
        of busy intervals per availability search)."""
        return cls._trusted(*coalesce(sorted(pairs)))

    @classmethod
    def _trusted(cls, starts: Sequence[datetime], ends: Sequence[datetime]) -> IntervalSet:
        """Wrap endpoints a sweep already produced sorted, disjoint and coalesced."""
        result = cls.__new__(cls)
        result._starts, result._ends = tuple(starts), tuple(ends)
        return result

    @property
    def starts(self) -> tuple[datetime, ...]:
        return self._starts

    @property
    def ends(self) -> tuple[datetime, ...]:
        return self._ends

    def __iter__(self) -> Iterator[Interval]:
        return (Interval(s, e) for s, e in zip(self._starts, self._ends, strict=True))

    def __len__(self) -> int:
        return len(self._starts)

    def __bool__(self) -> bool:
        return bool(self._starts)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IntervalSet):
            return NotImplemented
        return self._starts == other._starts and self._ends == other._ends

    def __hash__(self) -> int:
        return hash((self._starts, self._ends))

    def __repr__(self) -> str:
        pairs = zip(self._starts, self._ends, strict=True)
        inner = ", ".join(f"[{s.isoformat()}, {e.isoformat()})" for s, e in pairs)
        return f"IntervalSet({inner})"

    @property
    def total(self) -> timedelta:
        return sum((e - s for s, e in zip(self._starts, self._ends, strict=True)), timedelta())

    def union(self, other: IntervalSet) -> IntervalSet:
        merged = _merge_sorted(self, other)
        return IntervalSet._trusted(*coalesce(merged))

    def intersection(self, other: IntervalSet) -> IntervalSet:
        starts: list[datetime] = []
        ends: list[datetime] = []
        a_s, a_e, b_s, b_e = self._starts, self._ends, other._starts, other._ends
        i = j = 0
        while i < len(a_s) and j < len(b_s):
            lo, hi = max(a_s[i], b_s[j]), min(a_e[i], b_e[j])
            if lo < hi:
                starts.append(lo)
                ends.append(hi)
            # Drop whichever interval ends first: it cannot meet anything further on.
            if a_e[i] < b_e[j]:
                i += 1
            else:
                j += 1
        return IntervalSet._trusted(starts, ends)

    def subtract(self, other: IntervalSet) -> IntervalSet:
        if not other._starts:
            return self
        return IntervalSet._trusted(*subtract_runs(self._starts, self._ends, other._starts, other._ends))

    def contains(self, interval: Interval) -> bool:
        """Whether `interval` fits inside one member (coalesced, so "inside the set")."""
        i = bisect_right(self._starts, interval.start) - 1
        return i >= 0 and interval.end <= self._ends[i]

    def overlaps(self, interval: Interval) -> bool:
        """Whether any member shares at least one instant with `interval`."""
        return runs_overlap(self._starts, self._ends, interval.start, interval.end)

    def clip(self, window: Interval) -> IntervalSet:
        return self.intersection(IntervalSet((window,)))


def _merge_sorted(a: IntervalSet, b: IntervalSet) -> list[tuple[datetime, datetime]]:
    """The endpoints of both sets in start order: a linear merge of two sorted runs."""
    merged: list[tuple[datetime, datetime]] = []
    i = j = 0
    while i < len(a.starts) and j < len(b.starts):
        if a.starts[i] <= b.starts[j]:
            merged.append((a.starts[i], a.ends[i]))
            i += 1
        else:
            merged.append((b.starts[j], b.ends[j]))
            j += 1
    merged += zip(a.starts[i:], a.ends[i:], strict=True)
    merged += zip(b.starts[j:], b.ends[j:], strict=True)
    return merged


def coalesce(pairs: Iterable[tuple[Point, Point]]) -> tuple[tuple[Point, ...], tuple[Point, ...]]:
    """Merge start-sorted pairs that overlap or touch into disjoint intervals."""
    starts: list[Point] = []
    ends: list[Point] = []
    for start, end in pairs:
        if ends and start <= ends[-1]:
            if end > ends[-1]:
                ends[-1] = end
        else:
            starts.append(start)
            ends.append(end)
    return tuple(starts), tuple(ends)


def subtract_runs(
    starts: Sequence[Point], ends: Sequence[Point], hole_starts: Sequence[Point], hole_ends: Sequence[Point]
) -> tuple[list[Point], list[Point]]:
    """The disjoint intervals (starts, ends) less the start-sorted holes, as disjoint
    intervals: one sweep over both."""
    kept_starts: list[Point] = []
    kept_ends: list[Point] = []
    count = len(hole_starts)
    j = 0
    for start, end in zip(starts, ends, strict=True):
        # Holes ending at or before this interval's start are behind every later one too.
        while j < count and hole_ends[j] <= start:
            j += 1
        k, cursor = j, start
        while k < count:
            hole_start = hole_starts[k]
            if hole_start >= end:
                break
            if cursor < hole_start:
                kept_starts.append(cursor)
                kept_ends.append(hole_start)
            hole_end = hole_ends[k]
            if hole_end > cursor:
                cursor = hole_end
            k += 1
        if cursor < end:
            kept_starts.append(cursor)
            kept_ends.append(end)
    return kept_starts, kept_ends


def runs_overlap(starts: Sequence[Point], ends: Sequence[Point], low: Point, high: Point) -> bool:
    """Whether any of the sorted, disjoint intervals (starts, ends) shares an instant with
    [low, high)."""
    # The last one starting before `high` is the only one that can reach back.
    i = bisect_right(starts, high) - 1
    if i >= 0 and starts[i] == high:
        i -= 1
    return i >= 0 and ends[i] > low
