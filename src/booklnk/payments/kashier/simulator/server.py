"""Running the simulator: blocking (``serve``/``run``, for the CLI) or on a background
thread (``ServerThread``, for tests that need a real HTTP server next to them)."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

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


class ServerThread:
    """An ASGI app under uvicorn on a daemon thread with its own event loop, listening on a
    port chosen by the OS; ``url`` is its address once started. A context manager."""

    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1", startup_seconds: float = 10) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self.url = f"http://{host}:{self._sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self._startup_seconds = startup_seconds

    def start(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + self._startup_seconds
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server at {self.url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
