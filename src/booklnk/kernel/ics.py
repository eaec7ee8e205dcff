"""iCalendar (RFC 5545) rendering: pure functions from events to text, no I/O.

Small enough to write by hand, and the parts calendar apps are strict about are explicit:
CRLF line endings (3.1), content lines folded at 75 octets without splitting a UTF-8
character (3.1), TEXT values escaped (3.3.11), instants in UTC with a trailing "Z"
(3.3.5, form #2), and the properties a VEVENT must carry (UID, DTSTAMP, DTSTART).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

PRODID = "-//Booklnk//Booklnk API//EN"
CRLF = "\r\n"
MAX_OCTETS = 75  # per content line, excluding the CRLF

EventStatus = Literal["TENTATIVE", "CONFIRMED", "CANCELLED"]

# TEXT may hold any character but the controls (HTAB excepted); line breaks are escaped
# first, the remaining controls dropped rather than sent to a strict parser.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class Event:
    uid: str
    starts_at: datetime
    ends_at: datetime
    summary: str
    status: EventStatus
    sequence: int
    description: str | None = None
    created_at: datetime | None = None
    last_modified: datetime | None = None


def render_calendar(
    events: Iterable[Event], *, stamp: datetime, name: str | None = None, refresh_minutes: int | None = None
) -> str:
    """One VCALENDAR holding `events`. `stamp` is DTSTAMP (when this copy was made);
    `name` and `refresh_minutes` are hints for subscribed feeds."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    if name is not None:
        lines.append(f"X-WR-CALNAME:{escape_text(name)}")
    if refresh_minutes is not None:
        # RFC 7986 and its widely read predecessor: how often a subscriber should poll.
        lines.append(f"REFRESH-INTERVAL;VALUE=DURATION:PT{refresh_minutes}M")
        lines.append(f"X-PUBLISHED-TTL:PT{refresh_minutes}M")
    for event in events:
        lines.extend(_event_lines(event, stamp))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)


def _event_lines(event: Event, stamp: datetime) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{escape_text(event.uid)}",
        f"DTSTAMP:{utc_instant(stamp)}",
        f"DTSTART:{utc_instant(event.starts_at)}",
        f"DTEND:{utc_instant(event.ends_at)}",
        f"SUMMARY:{escape_text(event.summary)}",
    ]
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    lines += [f"STATUS:{event.status}", f"SEQUENCE:{event.sequence}"]
    if event.created_at is not None:
        lines.append(f"CREATED:{utc_instant(event.created_at)}")
    if event.last_modified is not None:
        lines.append(f"LAST-MODIFIED:{utc_instant(event.last_modified)}")
    lines.append("END:VEVENT")
    return lines


def utc_instant(value: datetime) -> str:
    """DATE-TIME in UTC ("form #2"): no TZID, so no VTIMEZONE is needed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("iCalendar instants must be aware datetimes")
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def escape_text(value: str) -> str:
    """A TEXT value: backslash, semicolon and comma escaped, line breaks as \\n."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return _CONTROLS.sub("", _LINE_BREAK.sub("\\\\n", value))


def fold(line: str) -> str:
    """Split a content line into chunks of at most 75 octets; each continuation starts
    with one space, which counts towards its 75. A UTF-8 character is never split."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        octets = len(char.encode())
        if size + octets > MAX_OCTETS:
            chunks.append("".join(current))
            current, size = [" "], 1
        current.append(char)
        size += octets
    chunks.append("".join(current))
    return CRLF.join(chunks)
