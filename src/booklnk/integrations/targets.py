"""Which URLs a webhook may be sent to (SSRF): pure checks of a URL and of the addresses
its host resolves to, and the resolution itself.

In production an endpoint must be https and its host must resolve only to public
unicast addresses (no private, loopback, link-local, multicast, reserved or unspecified
address, and no IPv4 hidden in IPv6): checked when it is registered and again before
every delivery, since DNS can change. Development and tests allow http and local
addresses (the settings say so)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    require_https: bool
    allow_private: bool


class Refused(Exception):
    """A URL or an address a webhook may not go to; `rule` names why."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


def check_url(url: str, policy: TargetPolicy) -> str:
    """The URL's host, or Refused (`too_long`, `not_a_url`, `https_required`, `credentials`)."""
    if len(url) > MAX_URL_LENGTH:
        raise Refused("too_long", f"At most {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused("not_a_url", "Not an absolute http(s) URL.") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("not_a_url", "Not an absolute http(s) URL.")
    if policy.require_https and parts.scheme != "https":
        raise Refused("https_required", "Must be an https URL.")
    if parts.username is not None or parts.password is not None:
        raise Refused("credentials", "Must not carry a user or password.")
    if port == 0:
        raise Refused("not_a_url", "Not a usable port.")
    return parts.hostname


def is_public(address: IpAddress) -> bool:
    """A public unicast address (IPv4 mapped into IPv6 is judged as the IPv4 it hides)."""
    if isinstance(address, ipaddress.IPv6Address):
        hidden = address.ipv4_mapped or address.sixtofour
        if hidden is not None:
            return is_public(hidden)
        if address.teredo is not None:
            return False
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def check_addresses(addresses: Iterable[IpAddress], policy: TargetPolicy) -> None:
    """Refused (`private_address`) when any address is not public and the policy says so;
    `unresolvable` when there is none."""
    found = list(addresses)
    if not found:
        raise Refused("unresolvable", "The host has no address.")
    if policy.allow_private:
        return
    if any(not is_public(a) for a in found):
        raise Refused("private_address", "The host resolves to a private or reserved address.")


async def resolve(host: str) -> list[IpAddress]:
    """The addresses `host` resolves to now (an IP literal is itself)."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Refused("unresolvable", "The host cannot be resolved.") from exc
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


async def check_target(url: str, policy: TargetPolicy) -> IpAddress | None:
    """The whole check: the URL, then (unless local addresses are allowed) where its host
    resolves now; the address checked, for the caller to connect to (so a second lookup
    cannot answer otherwise), or None when local addresses are allowed."""
    host = check_url(url, policy)
    if policy.allow_private:
        return None
    addresses = await resolve(host)
    check_addresses(addresses, policy)
    return addresses[0]


def policy_for(environment: str, allow_private: bool | None) -> TargetPolicy:
    """Production: https only, public addresses only (unless `allow_private` says
    otherwise explicitly); elsewhere: http and local addresses are fine."""
    production = environment == "production"
    return TargetPolicy(
        require_https=production,
        allow_private=(not production) if allow_private is None else allow_private,
    )
