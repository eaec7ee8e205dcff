"""Request paths as they may be logged: a path that is itself a credential (a calendar
feed's URL, which calendar apps fetch without signing in; a pay link, which starts its
booking's checkout) keeps its route and loses its secret. Every log line that names a
request's path goes through `redacted`."""

from __future__ import annotations

CALENDAR_FEEDS = "/v1/calendar-feeds/"  # then the feed's token and ".ics"
PAY_LINKS = "/v1/pay/"  # then the link's sealed token (payments.pay_links.PATH)

# Paths whose every segment after the prefix is secret.
_SECRET_AFTER = (CALENDAR_FEEDS, PAY_LINKS)


def redacted(path: str) -> str:
    for prefix in _SECRET_AFTER:
        if path.startswith(prefix) and len(path) > len(prefix):
            return f"{prefix}[redacted]"
    return path
