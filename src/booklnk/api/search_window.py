"""The `from`/`to` window of an availability search, checked the same way on every route
that searches (signed in or not)."""

from __future__ import annotations

from datetime import datetime

from booklnk.catalog.schemas import EARLIEST_INSTANT, LATEST_INSTANT
from booklnk.kernel.errors import ValidationFailed
from booklnk.scheduling.intervals import Interval


def search_window(from_: datetime, to: datetime) -> Interval:
    """`from` < `to`, both with a UTC offset and within 2000-2199 (the 62-day bound is the
    engine's own)."""
    if from_.tzinfo is None or to.tzinfo is None or to <= from_:
        raise ValidationFailed.on("query.to", "valid_window", "Give `from` < `to`, both with a UTC offset.")
    for name, instant in (("from", from_), ("to", to)):
        if not EARLIEST_INSTANT <= instant <= LATEST_INSTANT:
            raise ValidationFailed.on(
                f"query.{name}", "out_of_range", "Search between the years 2000 and 2199."
            )
    return Interval(from_, to)
