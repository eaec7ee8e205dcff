"""What `booklnk serve` tells its processes (API workers, the worker, the simulator), all of
which read their settings from the environment: the public base URL follows the port
served, and the Kashier URLs the simulator's port, unless the environment says otherwise;
a URL of this machine set to another port is worth a warning (webhooks and returns would
go nowhere, and payments never confirm). Pure: the environment in, what to add out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

KASHIER_URLS = ("BOOKLNK_KASHIER_HPP_URL", "BOOKLNK_KASHIER_API_URL", "BOOKLNK_KASHIER_FEP_URL")
_THIS_MACHINE = ("127.0.0.1", "localhost", "::1")


def defaults(
    env: Mapping[str, str],
    *,
    host: str,
    port: int,
    simulator_port: int | None,
    messages_port: int | None = None,
) -> dict[str, str]:
    """The variables to add: those `env` leaves unset (or empty)."""
    # Bound to every interface, this machine is still reachable on its loopback.
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    wanted = {"BOOKLNK_PUBLIC_BASE_URL": f"http://{shown}:{port}"}
    if simulator_port is not None:
        wanted |= dict.fromkeys(KASHIER_URLS, f"http://127.0.0.1:{simulator_port}")
    if messages_port is not None:
        wanted["BOOKLNK_CEQUENS_API_URL"] = f"http://127.0.0.1:{messages_port}/cequens"
        wanted["BOOKLNK_WHATSAPP_API_URL"] = f"http://127.0.0.1:{messages_port}/whatsapp"
    return {name: value for name, value in wanted.items() if not env.get(name)}


@dataclass(frozen=True, slots=True)
class Elsewhere:
    setting: str
    port: int
    served: int


def elsewhere(urls: Mapping[str, str], *, port: int, simulator_port: int | None) -> list[Elsewhere]:
    """URLs (by variable name) that point at this machine but not at what is served there."""
    served = {"BOOKLNK_PUBLIC_BASE_URL": port}
    if simulator_port is not None:
        served |= dict.fromkeys(KASHIER_URLS, simulator_port)
    found = []
    for name, expected in served.items():
        url = urlsplit(urls[name])
        url_port = url.port or (443 if url.scheme == "https" else 80)
        if url.hostname in _THIS_MACHINE and url_port != expected:
            found.append(Elsewhere(name, url_port, expected))
    return found
