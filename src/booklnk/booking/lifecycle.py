"""The booking state graph, and the clock staff actions follow. Pure.

This is the graph the code runs: every status a booking takes is written by
`booking.transitions` through `next_status`, and recorded with its action in the
booking's status audit (tests hold the audit to this graph).

    held ──confirm──▶ confirmed ──check_in──▶ checked_in ──complete──▶ completed
      │ ╲               │  ▲  ╲   ◀─undo_check_in─┘
    expire cancel    cancel │  no_show
      ▼    ▼            ▼   │    ▼
   expired cancelled cancelled └─undo_no_show── no_show
      │
      └──reconfirm──▶ confirmed   (money that came after the hold lapsed, the time still free)

DESIGN.md's graph has no held → cancelled; it is added so a customer can let go of a
hold before paying instead of waiting for it to expire. A no-show keeps its time blocked:
the chair was reserved for that customer, and an undone no-show needs it back.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from booklnk.booking.models import BookingStatus
from booklnk.business_types.definition import EffectiveRules
from booklnk.kernel.errors import Conflict


class Action(enum.StrEnum):
    CONFIRM = "confirm"  # by its verified payment, or by staff when no payment is needed
    EXPIRE = "expire"
    CANCEL = "cancel"
    CHECK_IN = "check_in"
    COMPLETE = "complete"
    NO_SHOW = "no_show"
    UNDO_CHECK_IN = "undo_check_in"
    UNDO_NO_SHOW = "undo_no_show"
    RECONFIRM = "reconfirm"  # late money for a lapsed hold whose time was still free


S = BookingStatus
TRANSITIONS: dict[tuple[BookingStatus, Action], BookingStatus] = {
    (S.HELD, Action.CONFIRM): S.CONFIRMED,
    (S.HELD, Action.EXPIRE): S.EXPIRED,
    (S.HELD, Action.CANCEL): S.CANCELLED,
    (S.CONFIRMED, Action.CHECK_IN): S.CHECKED_IN,
    (S.CONFIRMED, Action.CANCEL): S.CANCELLED,
    (S.CONFIRMED, Action.NO_SHOW): S.NO_SHOW,
    (S.CHECKED_IN, Action.COMPLETE): S.COMPLETED,
    (S.CHECKED_IN, Action.UNDO_CHECK_IN): S.CONFIRMED,
    (S.NO_SHOW, Action.UNDO_NO_SHOW): S.CONFIRMED,
    (S.EXPIRED, Action.RECONFIRM): S.CONFIRMED,
}

# Statuses whose time (or class seat) stays taken; a held one only until it lapses.
BLOCKING = frozenset({S.HELD, S.CONFIRMED, S.CHECKED_IN, S.COMPLETED, S.NO_SHOW})
# What a booking may be born as: held for payment, confirmed, or checked in (a walk-in).
INITIAL = frozenset({S.HELD, S.CONFIRMED, S.CHECKED_IN})
# Statuses nothing leaves (an expired hold may still be confirmed by late money, and a
# no-show undone).
TERMINAL = frozenset({S.COMPLETED, S.CANCELLED})
# Actions only staff (or owners) take; a customer may only cancel; EXPIRE and RECONFIRM
# are the system's (a job, a payment).
STAFF_ACTIONS = frozenset(
    {
        Action.CONFIRM,
        Action.CHECK_IN,
        Action.COMPLETE,
        Action.NO_SHOW,
        Action.UNDO_CHECK_IN,
        Action.UNDO_NO_SHOW,
    }
)
UNDONE_BY = {Action.UNDO_CHECK_IN: Action.CHECK_IN, Action.UNDO_NO_SHOW: Action.NO_SHOW}


class InvalidTransition(Conflict):
    code = "invalid_transition"


class TooEarly(Conflict):
    """A staff action before its time: the answer names the rule and the earliest time."""

    code = "too_early"


class TooLate(Conflict):
    """A staff action after its time: the answer names the rule and the latest time."""

    code = "too_late"


def next_status(current: BookingStatus, action: Action) -> BookingStatus:
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        raise InvalidTransition(
            f"A {current.value} booking cannot {action.value.replace('_', ' ')}.",
            # `status` is RFC 9457's (the HTTP status): the booking's goes by its own name.
            extra={"booking_status": current.value, "action": action.value},
        ) from None


def sources(action: Action) -> frozenset[BookingStatus]:
    """The statuses `action` moves a booking out of."""
    return frozenset(status for status, act in TRANSITIONS if act is action)


def blocks(status: BookingStatus) -> bool:
    return status in BLOCKING


@dataclass(frozen=True, slots=True)
class StaffClock:
    """When staff may act on a booking (the business's rules): check-in opens a while
    before the start and closes at the end; complete only after the start; no-show only
    after the start plus a grace; an undo only shortly after what it undoes."""

    check_in_opens: timedelta
    no_show_grace: timedelta
    undo_window: timedelta

    @classmethod
    def of(cls, rules: EffectiveRules) -> StaffClock:
        return cls(
            timedelta(minutes=rules.check_in_opens_minutes),
            timedelta(minutes=rules.no_show_grace_minutes),
            timedelta(minutes=rules.undo_window_minutes),
        )

    def check(
        self,
        action: Action,
        *,
        starts_at: datetime,
        ends_at: datetime,
        now: datetime,
        undone_at: datetime | None = None,
    ) -> None:
        """409 `too_early` / `too_late` naming the rule, when `action` is not due at `now`.
        `undone_at`: when the check-in or no-show an undo takes back was recorded."""
        if action is Action.CHECK_IN:
            _not_before(now, starts_at - self.check_in_opens, "check_in_opens_minutes", "Check-in opens")
            _not_after(now, ends_at, "check_in_closes_at_end", "Check-in closed when the booking ended")
        elif action is Action.COMPLETE:
            _not_before(now, starts_at, "complete_after_start", "A booking can be completed from its start")
        elif action is Action.NO_SHOW:
            _not_before(
                now, starts_at + self.no_show_grace, "no_show_grace_minutes", "A no-show can be recorded"
            )
        elif action in UNDONE_BY and undone_at is not None:
            _not_after(now, undone_at + self.undo_window, "undo_window_minutes", "The undo window closed")


def _not_before(now: datetime, earliest: datetime, rule: str, what: str) -> None:
    if now < earliest:
        raise TooEarly(
            f"{what} at {earliest.isoformat()}.", extra={"rule": rule, "earliest": earliest.isoformat()}
        )


def _not_after(now: datetime, latest: datetime, rule: str, what: str) -> None:
    if now > latest:
        raise TooLate(f"{what} at {latest.isoformat()}.", extra={"rule": rule, "latest": latest.isoformat()})
