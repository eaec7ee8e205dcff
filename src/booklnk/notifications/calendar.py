"""The calendar entry a booking's e-mail carries (an .ics attachment, RFC 5545), pure: from
the message's parameters. Its UID is the booking's calendar-feed UID and its SEQUENCE the
booking's version, so a calendar that imported the confirmation moves the entry on a
reschedule and marks it cancelled on a cancellation.

Published (METHOD:PUBLISH), not an invitation (REQUEST): an iTIP request needs an
organizer and attendees, and mail clients answer it with RSVPs nobody reads; a plain
published entry is "add to calendar"."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from booklnk.kernel import ics

# Templates about a booking's time, and the status their entry takes.
_STATUS: dict[str, ics.EventStatus] = {
    "booking_confirmed": "CONFIRMED",
    "booking_rescheduled": "CONFIRMED",
    "booking_reminder": "CONFIRMED",
    "booking_cancelled": "CANCELLED",
}


def entry(template: str, params: Mapping[str, Any], *, stamp: datetime) -> str | None:
    """The .ics text for a message of `template`, or None when it is not about a booking's
    time (or lacks what an entry needs: messages recorded before entries were)."""
    status = _STATUS.get(template)
    if status is None or not {"booking_id", "starts_at", "ends_at", "version"} <= params.keys():
        return None
    event = ics.Event(
        uid=f"{params['booking_id']}@booklnk",
        starts_at=datetime.fromisoformat(params["starts_at"]),
        ends_at=datetime.fromisoformat(params["ends_at"]),
        summary=f"{params['service']} · {params['business']}",
        status=status,
        sequence=int(params["version"]),
    )
    return ics.render_calendar([event], stamp=stamp, name=str(params["business"]))
