"""A simulator (any ASGI app) served by uvicorn on a daemon thread with its own event loop:
how the tests run the providers' simulators (Kashier's too) beside the app."""

from __future__ import annotations

import asyncio
import functools
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Literal, ParamSpec

import uvicorn
from starlette.types import ASGIApp

P = ParamSpec("P")


def until_shutdown(send: Callable[P, Awaitable[None]]) -> Callable[P, Awaitable[None]]:
    """A simulator's callbacks sent after its answer (reports, webhooks) stop quietly when
    the server shuts down mid-retry: a callback to nobody is not an error of the app."""

    @functools.wraps(send)
    async def sending(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            await send(*args, **kwargs)
        except asyncio.CancelledError:
            return

    return sending


class ServerThread:
    """An ASGI app under uvicorn on a daemon thread with its own event loop; `url` is its
    address (`port` 0 lets the OS choose one, bound here so nothing can take it first). A
    context manager, or `start()` and `stop()`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        lifespan: Literal["auto", "on", "off"] = "auto",
        startup_seconds: float = 10.0,
    ) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(
            app, log_level="warning", log_config=None, lifespan=lifespan, timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="simulator", daemon=True
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
