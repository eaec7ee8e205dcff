"""Where a business lets checkout send the customer back: its allowed return origins.
Pure: the list in, the normalised list (or a 422 naming the field and rule) out.

An origin is a scheme, a host and maybe a port, nothing else: a path, a query, a user
or a fragment would make "same origin" mean something else than the browser's. Plain
http is allowed only for this machine (localhost, 127.0.0.1), and only outside
production, so a developer's front end can be tried against a test business."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from booklnk.kernel.errors import ValidationFailed

MAX_ORIGINS = 10
MAX_URL_LENGTH = 2000
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1"})
_FIELD = "body.return_origins"


def check(values: Sequence[str], *, allow_local: bool) -> list[str]:
    """The origins as they will be compared (lower-case, no default port), in order and
    without repeats; 422 on the first one that is not an origin we allow."""
    if len(values) > MAX_ORIGINS:
        raise ValidationFailed.on(_FIELD, "too_many", f"At most {MAX_ORIGINS} return origins.")
    found: list[str] = []
    for index, value in enumerate(values):
        field = f"{_FIELD}.{index}"
        parts = _split(value)
        if parts is None or parts[3]:
            raise ValidationFailed.on(
                field, "not_an_origin", "An origin is scheme://host[:port], with no path, query or user."
            )
        scheme, host, port, _ = parts
        if scheme == "http" and not (allow_local and host in LOCAL_HOSTS):
            rule = "http_only_local" if allow_local else "https_required"
            raise ValidationFailed.on(
                field,
                rule,
                "Use https; http only for localhost or 127.0.0.1, outside production."
                if allow_local
                else "Use https.",
            )
        origin = _origin(scheme, host, port)
        if origin not in found:
            found.append(origin)
    return found


def origin_of(url: str) -> str | None:
    """The normalised origin of an absolute http(s) URL; None when it is not one (relative,
    another scheme, a user in it, a bad port)."""
    parts = _split(url)
    if parts is None:
        return None
    scheme, host, port, _ = parts
    return _origin(scheme, host, port)


def allows(origins: Sequence[str], url: str) -> bool:
    """`url` leads to one of `origins` (stored normalised by `check`)."""
    origin = origin_of(url)
    return origin is not None and origin in origins


def _split(value: str) -> tuple[str, str, int | None, bool] | None:
    """scheme, host, port and whether anything beyond the origin is there; None when the
    value is no http(s) URL with a host."""
    if not value or len(value) > MAX_URL_LENGTH or any(c.isspace() or ord(c) < 0x20 for c in value):
        return None
    try:
        split = urlsplit(value)
        port = split.port
    except ValueError:  # a port that is no number, or out of range
        return None
    scheme, host = split.scheme.lower(), (split.hostname or "")
    if scheme not in ("http", "https") or not host or split.username is not None or "@" in split.netloc:
        return None
    if "\\" in value:  # browsers read a backslash as a slash: the host would not be what we saw
        return None
    beyond = bool(split.path not in ("", "/") or split.query or split.fragment or value.endswith(("?", "#")))
    return scheme, host.lower(), port, beyond


def _origin(scheme: str, host: str, port: int | None) -> str:
    default = 443 if scheme == "https" else 80
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"
