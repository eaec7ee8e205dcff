"""CPU time read from /proc around a wrk run: what each request cost the server under load,
PostgreSQL and the load generator. On two cores shared by all three, a request's CPU bounds
its throughput (2 cores / CPU per request), so these figures say where a gap to the minimal
stack comes from. Linux only; PostgreSQL's share is counted only when its processes run on
this machine (the machine's server or the embedded one), else it is absent."""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_TICKS = os.sysconf("SC_CLK_TCK")
_PROC = Path("/proc")


@dataclass(frozen=True)
class CpuSnapshot:
    server: float  # seconds, the server's process group
    server_kernel: float  # of which in the kernel (system calls: each round trip's socket I/O)
    postgres: float  # seconds, every postgres process (0 when none is visible)
    load_generator: float  # seconds, this process's reaped children (wrk runs to its end)


def _stat(pid: str) -> tuple[str, list[str]] | None:
    """The process's name and its stat fields after the name (field 3 on); None when it has
    gone. The name is in parentheses and may hold spaces, so the fields start after the last ')'."""
    try:
        raw = (_PROC / pid / "stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    return name, raw[raw.rindex(")") + 2 :].split()


def _seconds(fields: list[str]) -> tuple[float, float]:
    """All CPU seconds and those in the kernel: utime, stime, cutime, cstime (fields 14-17),
    a process's own and that of the children it has reaped, so that a backend that exited
    is still counted in the postmaster."""
    utime, stime, cutime, cstime = (int(fields[i]) for i in range(11, 15))
    return (utime + stime + cutime + cstime) / _TICKS, (stime + cstime) / _TICKS


def snapshot(server_group: int) -> CpuSnapshot:
    server = server_kernel = postgres = 0.0
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        found = _stat(entry.name)
        if found is None:
            continue
        name, fields = found
        total, kernel = _seconds(fields)
        if int(fields[2]) == server_group:  # field 5: the process group
            server += total
            server_kernel += kernel
        elif name == "postgres":
            postgres += total
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return CpuSnapshot(server, server_kernel, postgres, children.ru_utime + children.ru_stime)


def per_request(before: CpuSnapshot, after: CpuSnapshot, requests: int) -> dict[str, Any]:
    """CPU milliseconds per request between two snapshots, by party."""
    if requests <= 0:
        return {}
    parts = {
        "server": after.server - before.server,
        "server_kernel": after.server_kernel - before.server_kernel,
        "postgres": after.postgres - before.postgres,
        "load_generator": after.load_generator - before.load_generator,
    }
    return {name: 1000 * seconds / requests for name, seconds in parts.items()}
