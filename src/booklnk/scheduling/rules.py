"""The rules on WHEN a booking may start, shared by every listing and every booking check.

One object, `BookingTime`, answers both questions the engine asks: "which starts in this
window may be offered?" (for a listing) and "which rule, if any, does this start break?"
(for a booking). Both are derived from the same three predicates, so a listing and a
booking can never disagree on the grid, the minimum notice or the horizon. Class mode
judges a session's start with the same `rejection`: a seat booking (and a waitlist join)
refuses what it refuses, and the customer's session listing leaves out exactly those
(`classes.service.list_sessions(bookable_at=...)`).

Horizon semantics (a decision; issue 3 leaves it open): the horizon is counted in whole
LOCAL days. With `horizon_days = N`, a start is bookable when its local date is at most
today + N, i.e. start < the first instant of local date (today + N + 1), where today is
the local date of `now`. Customers see complete days rather than a last day cut at the
current time of day, and the frontier moves once, at local midnight. Minimum notice, by
contrast, is instant based: start >= now + min_notice.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from booklnk.catalog.schedule_rules import MINUTES_PER_DAY
from booklnk.scheduling.intervals import Interval, as_utc
from booklnk.scheduling.localtime import day_start, grid_instants, is_on_grid

if TYPE_CHECKING:
    from booklnk.business_types.definition import EffectiveRules


class SlotRule(enum.StrEnum):
    """Stable codes of the rules a requested start can break, in the order they are checked."""

    INVALID_DURATION = "invalid_duration"
    OFF_GRID = "off_grid"
    IN_PAST = "in_past"
    INSIDE_MIN_NOTICE = "inside_min_notice"
    BEYOND_HORIZON = "beyond_horizon"
    OUTSIDE_HOURS = "outside_hours"
    SLOT_UNAVAILABLE = "slot_unavailable"


RULE_MESSAGES: dict[SlotRule, str] = {
    SlotRule.INVALID_DURATION: "The duration is not one of the service's duration options.",
    SlotRule.OFF_GRID: "The start is not on the business's slot grid.",
    SlotRule.IN_PAST: "The start is in the past.",
    SlotRule.INSIDE_MIN_NOTICE: "The start is sooner than the business's minimum notice allows.",
    SlotRule.BEYOND_HORIZON: "The start is further ahead than the business takes bookings.",
    SlotRule.OUTSIDE_HOURS: "Nobody who performs this service is working then.",
    SlotRule.SLOT_UNAVAILABLE: "The slot is taken.",
}


@dataclass(frozen=True, slots=True)
class SlotRules:
    """The business-type rules the engine reads (a business's effective rules)."""

    grid_minutes: int
    min_notice_minutes: int = 0
    horizon_days: int = 30
    buffer_before_minutes: int = 0  # the type's defaults; a service may set its own
    buffer_after_minutes: int = 0

    def __post_init__(self) -> None:
        if self.grid_minutes <= 0 or MINUTES_PER_DAY % self.grid_minutes:
            raise ValueError(f"a slot grid of {self.grid_minutes} minutes does not divide the day")
        if min(self.min_notice_minutes, self.buffer_before_minutes, self.buffer_after_minutes) < 0:
            raise ValueError("minimum notice and buffers cannot be negative")
        if self.horizon_days < 0:
            raise ValueError("the horizon cannot be negative")

    @classmethod
    def from_effective(cls, rules: EffectiveRules) -> SlotRules:
        return cls(
            grid_minutes=rules.slot_grid_minutes,
            min_notice_minutes=rules.min_notice_minutes,
            horizon_days=rules.horizon_days,
            buffer_before_minutes=rules.buffer_before_minutes,
            buffer_after_minutes=rules.buffer_after_minutes,
        )


@dataclass(frozen=True, slots=True)
class BookingTime:
    """The timing rules as they stand at `now` for a business in `zone`."""

    rules: SlotRules
    zone: ZoneInfo
    now: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "now", as_utc(self.now))

    @property
    def earliest(self) -> datetime:
        """The first bookable instant: now plus the minimum notice."""
        return self.now + timedelta(minutes=self.rules.min_notice_minutes)

    @property
    def horizon_end(self) -> datetime:
        """The first instant too far ahead: the start of local date today + horizon + 1."""
        today = self.now.astimezone(self.zone).date()
        return day_start(today + timedelta(days=self.rules.horizon_days + 1), self.zone)

    def rejection(self, start: datetime) -> SlotRule | None:
        """The first timing rule `start` breaks, or None."""
        if not is_on_grid(start, self.zone, self.rules.grid_minutes):
            return SlotRule.OFF_GRID
        if start < self.now:
            return SlotRule.IN_PAST
        if start < self.earliest:
            return SlotRule.INSIDE_MIN_NOTICE
        if start >= self.horizon_end:
            return SlotRule.BEYOND_HORIZON
        return None

    def starts(self, window: Interval) -> list[datetime]:
        """Every start in `window` that `rejection` accepts, sorted: grid instants in
        window ∩ [earliest, horizon_end). (earliest >= now, so none is in the past.)"""
        low, high = max(window.start, self.earliest), min(window.end, self.horizon_end)
        if low >= high:
            return []
        return grid_instants(Interval(low, high), self.zone, self.rules.grid_minutes)
