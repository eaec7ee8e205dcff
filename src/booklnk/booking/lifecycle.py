"""The booking state graph. Pure: which action moves which status where.

    held ──confirm──▶ confirmed ──check_in──▶ checked_in ──complete──▶ completed
      │ ╲                 │ ╲
    expire cancel      cancel no_show
      ▼    ▼              ▼      ▼
   expired cancelled  cancelled no_show

DESIGN.md's graph has no held → cancelled; it is added so a customer can let go of a hold
before paying instead of waiting for it to expire.
"""

from __future__ import annotations

import enum

from booklnk.booking.models import BookingStatus
from booklnk.kernel.errors import Conflict


class Action(enum.StrEnum):
    CONFIRM = "confirm"
    EXPIRE = "expire"
    CANCEL = "cancel"
    CHECK_IN = "check_in"
    COMPLETE = "complete"
    NO_SHOW = "no_show"


S = BookingStatus
TRANSITIONS: dict[tuple[BookingStatus, Action], BookingStatus] = {
    (S.HELD, Action.CONFIRM): S.CONFIRMED,
    (S.HELD, Action.EXPIRE): S.EXPIRED,
    (S.HELD, Action.CANCEL): S.CANCELLED,
    (S.CONFIRMED, Action.CHECK_IN): S.CHECKED_IN,
    (S.CONFIRMED, Action.CANCEL): S.CANCELLED,
    (S.CONFIRMED, Action.NO_SHOW): S.NO_SHOW,
    (S.CHECKED_IN, Action.COMPLETE): S.COMPLETED,
}

# Statuses whose time stays blocked on the calendar (a held one until it expires).
BLOCKING = frozenset({S.HELD, S.CONFIRMED, S.CHECKED_IN, S.COMPLETED})
FINAL = frozenset({S.COMPLETED, S.CANCELLED, S.EXPIRED, S.NO_SHOW})


class InvalidTransition(Conflict):
    code = "invalid_transition"


def next_status(current: BookingStatus, action: Action) -> BookingStatus:
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        raise InvalidTransition(
            f"A {current.value} booking cannot {action.value.replace('_', ' ')}.",
            extra={"status": current.value, "action": action.value},
        ) from None
