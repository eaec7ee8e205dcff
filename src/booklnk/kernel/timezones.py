"""IANA time-zone validation."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from booklnk.kernel.errors import ValidationFailed

DEFAULT_TIME_ZONE = "Africa/Cairo"


def check_time_zone(name: str, *, field: str) -> ZoneInfo:
    """The zone, or a 422 naming `field` when `name` is not an IANA zone key."""
    if name not in _known_zones():
        raise ValidationFailed.on(field, "iana_time_zone", f"{name!r} is not an IANA time zone.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed.on(field, "iana_time_zone", f"{name!r} is not an IANA time zone.") from exc


@cache  # scanning tzdata is slow; the set never changes while running
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())
