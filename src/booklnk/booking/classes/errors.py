"""Class error kinds with stable codes."""

from __future__ import annotations

from booklnk.kernel.errors import Conflict, NotFound


class SessionNotFound(NotFound):
    code = "session_not_found"


class SeriesNotFound(NotFound):
    code = "series_not_found"


class SessionFull(Conflict):
    """No seat left (or the free ones are promised to the waitlist): join the waitlist."""

    code = "session_full"


class SessionClosed(Conflict):
    """Cancelled, or already started."""

    code = "session_closed"


class SeatsAvailable(Conflict):
    """A waitlist is only for full sessions: book a seat instead."""

    code = "seats_available"


class AlreadyWaiting(Conflict):
    code = "already_waiting"


class InstructorBusy(Conflict):
    code = "instructor_busy"


class WaitlistEntryNotFound(NotFound):
    code = "waitlist_entry_not_found"


class ResourceBusy(Conflict):
    """The room (or other resource) a session needs is taken then."""

    code = "resource_busy"
