"""Child processes of `booklnk serve` (`--worker`, `--kashier-sim`), started again whenever
they die, until the server stops.

A child that dies (killed by the OOM killer or by hand with SIGKILL, or exiting with an
error) is started again after a backoff (doubling up to ten seconds, reset once it has run
for a minute), and its exit is logged with its code. A child that stops cleanly (exit 0)
was asked to: by the server stopping it, or by a signal sent to the server's whole process
group (Ctrl-C in a terminal), so it is not started again to race the server's shutdown.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Mapping

import structlog

from booklnk.kernel.backoff import restart_delay

log = structlog.get_logger(__name__)

HEALTHY_RUN_SECONDS = 60.0
STOP_SECONDS = 20.0


class Child:
    """`python -m booklnk.cli <command>`, kept running by a daemon thread."""

    def __init__(self, command: str, *args: str, env: Mapping[str, str] | None = None) -> None:
        self.command = command
        self._argv = [sys.executable, "-m", "booklnk.cli", command, *args]
        self._env = None if env is None else dict(env)
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._thread = threading.Thread(target=self._keep_running, name=f"child {command}", daemon=True)

    @property
    def pid(self) -> int | None:
        with self._lock:
            return None if self._process is None else self._process.pid

    def start(self) -> Child:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the child to stop (SIGTERM: it finishes its jobs), then kill it if it has not
        within `STOP_SECONDS`; it is not started again."""
        with self._lock:
            self._stopping.set()
            process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _keep_running(self) -> None:
        failures = 0
        while True:
            with self._lock:
                if self._stopping.is_set():
                    return
                started = time.monotonic()
                self._process = subprocess.Popen(self._argv, env=self._env)
                process = self._process
            code = process.wait()
            if self._stopping.is_set() or code == 0:
                log.info("child_stopped", command=self.command)
                return
            failures = 1 if time.monotonic() - started > HEALTHY_RUN_SECONDS else failures + 1
            delay = restart_delay(failures)
            log.warning("child_exited", command=self.command, code=code, restart_in=round(delay, 1))
            if self._stopping.wait(delay):
                return
