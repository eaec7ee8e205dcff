"""Where Kashier is and who we are to it. Built once at start-up and passed down.

Switching between real Kashier (test or live) and the local simulator is a matter of these
values only: no URL is a constant in a code path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import SecretStr

Mode = Literal["test", "live"]

# Kashier's documented hosts (PROTOCOL.md, "Hosts"); defaults only, always overridable.
TEST_HPP_URL = "https://payments.kashier.io"
TEST_API_URL = "https://test-api.kashier.io"
TEST_FEP_URL = "https://test-fep.kashier.io"
LIVE_API_URL = "https://api.kashier.io"
LIVE_FEP_URL = "https://fep.kashier.io"


@dataclass(frozen=True, slots=True)
class KashierConfig:
    """Credentials and endpoints for one mode.

    ``api_key`` (the Payment API key) signs order hashes and verifies Kashier's signatures;
    ``secret_key`` goes raw in ``Authorization`` on server-to-server calls. Both are
    SecretStr and out of ``repr`` so neither reaches a log line or a traceback."""

    mid: str
    api_key: SecretStr = field(repr=False)
    secret_key: SecretStr = field(repr=False)
    mode: Mode = "test"
    hpp_url: str = TEST_HPP_URL
    api_url: str = TEST_API_URL
    fep_url: str = TEST_FEP_URL
    # Per request; a lookup or refund that takes longer raises KashierTimeout.
    timeout_seconds: float = 15.0

    def __post_init__(self) -> None:
        if self.mode not in ("test", "live"):
            raise ValueError(f"mode must be 'test' or 'live', not {self.mode!r}")

    @classmethod
    def create(
        cls,
        *,
        mid: str,
        api_key: str | SecretStr,
        secret_key: str | SecretStr,
        mode: Mode = "test",
        hpp_url: str | None = None,
        api_url: str | None = None,
        fep_url: str | None = None,
        timeout_seconds: float = 15.0,
    ) -> KashierConfig:
        """From plain strings (e.g. settings), the mode's documented hosts filling any URL
        not given. Pointing all three URLs at one base is how the simulator is used."""
        live = mode == "live"
        return cls(
            mid=mid,
            api_key=api_key if isinstance(api_key, SecretStr) else SecretStr(api_key),
            secret_key=secret_key if isinstance(secret_key, SecretStr) else SecretStr(secret_key),
            mode=mode,
            hpp_url=hpp_url or TEST_HPP_URL,
            api_url=api_url or (LIVE_API_URL if live else TEST_API_URL),
            fep_url=fep_url or (LIVE_FEP_URL if live else TEST_FEP_URL),
            timeout_seconds=timeout_seconds,
        )
