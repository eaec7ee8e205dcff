"""Running the simulator: blocking (``serve``/``run``, for the CLI) or on a background
thread (``ServerThread``, shared with the messaging simulators, for tests that need a real
HTTP server next to them)."""

from __future__ import annotations

import uvicorn

from booklnk.notifications.simulators.threaded import ServerThread
from booklnk.payments.kashier.simulator.app import create_app
from booklnk.payments.kashier.simulator.settings import SimulatorSettings


def serve(host: str, port: int, *, api_key: str, secret_key: str, mid: str) -> None:
    """Block running the simulator with Kashier's retry schedule (``booklnk kashier-sim``)."""
    settings = SimulatorSettings(mid=mid, api_key=api_key, secret_key=secret_key)
    # Through the process's own logging (JSON lines where configured), not uvicorn's plain text.
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None)


def run(host: str, port: int, settings: SimulatorSettings, *, log_level: str = "info") -> None:
    """Block running the simulator with any settings (compressed retries, short delays)."""
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level)


__all__ = ["ServerThread", "run", "serve"]
