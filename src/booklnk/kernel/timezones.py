"""IANA time-zone validation against the tz database the project ships (the `tzdata` package).

A business's zone must be a canonical name, and this module decides which names are, from
that database alone (never from the host's /usr/share/zoneinfo, which also holds files such
as `localtime`, `posixrules`, `posix/...` and `right/...` that are not zone names):

- every `Zone` of the compact source `tzdata.zi`, except `Factory` (a placeholder whose
  abbreviation says "time zone unknown", not a place's clock);
- every name of `zone.tab`, IANA's table of each country's zones: since 2022 the compact
  data links some of them to another country's zone that has kept the same clocks since 1970
  (`Europe/Stockholm` to `Europe/Berlin`), yet each stays the name of its place;
- `UTC`, the name every system (POSIX, PostgreSQL, Python's `datetime.UTC`) gives UTC,
  beside the Zone `Etc/UTC`.

Every other `Link` (`Egypt`, `US/Eastern`, `Asia/Calcutta`, `GMT`) is a deprecated or
alternative spelling: it is refused with the canonical zone it stands for named in the
message, and never rewritten on the caller's behalf.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from booklnk.kernel.errors import ValidationFailed

DEFAULT_TIME_ZONE = "Africa/Cairo"
RULE = "iana_time_zone"

_PLACEHOLDER_ZONES = frozenset({"Factory"})
_CONVENTIONAL_NAMES = frozenset({"UTC"})


@dataclass(frozen=True, slots=True)
class ZoneNames:
    canonical: frozenset[str]
    aliases: Mapping[str, str]
    """Every other name the database defines -> the canonical zone it stands for."""


def check_time_zone(name: str, *, field: str) -> ZoneInfo:
    """The zone, or a 422 naming `field` (rule `iana_time_zone`) when `name` is not a
    canonical IANA zone name; an alias's message names the zone to send instead."""
    names = zone_names()
    if name not in names.canonical:
        canonical = names.aliases.get(name)
        if canonical is None:
            raise ValidationFailed.on(field, RULE, f"{name!r} is not an IANA time zone.")
        raise ValidationFailed.on(
            field,
            RULE,
            f"{name!r} is an alias in the IANA time zone database, not a canonical zone name: "
            f"send {canonical!r}.",
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed.on(field, RULE, f"{name!r} is not an IANA time zone.") from exc


@cache  # reading and parsing the database takes milliseconds; it never changes while running
def zone_names() -> ZoneNames:
    zones: set[str] = set()
    links: dict[str, str] = {}
    for kind, *names in _records(_read("tzdata.zi")):
        if kind == "Z":
            zones.add(names[0])
        elif kind == "L":
            target, alias = names[:2]
            links[alias] = target
    located = {columns[2].strip() for columns in _tab_rows(_read("zone.tab"))}
    canonical = frozenset((zones - _PLACEHOLDER_ZONES) | located | _CONVENTIONAL_NAMES)
    aliases = {
        alias: resolved
        for alias in links
        if alias not in canonical and (resolved := _resolve(alias, links, canonical)) is not None
    }
    return ZoneNames(canonical, aliases)


def _resolve(alias: str, links: Mapping[str, str], canonical: frozenset[str]) -> str | None:
    """Follow links until a canonical name (zic writes link-to-zone, but chains are legal)."""
    seen = {alias}
    name = links[alias]
    while name not in canonical:
        if name in seen or name not in links:
            return None
        seen.add(name)
        name = links[name]
    return name


def _read(resource: str) -> str:
    return files("tzdata").joinpath("zoneinfo", resource).read_text(encoding="utf-8")


def _records(text: str) -> Iterator[list[str]]:
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if fields:
            yield fields


def _tab_rows(text: str) -> Iterator[list[str]]:
    """zone.tab rows: country code, coordinates, zone name, optional comment."""
    for line in text.splitlines():
        if line and not line.startswith("#"):
            yield line.split("\t")
