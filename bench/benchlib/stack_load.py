"""Booking throughput against the minimal stack, both under wrk: the Lua scripts that give
every request its own slot or row, and the sweep over connection counts that measures the
ceiling and the booking POST side by side at each count."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from benchlib.cpu import per_request, snapshot
from benchlib.minimal_stack import LANE
from benchlib.output import log
from benchlib.processes import Server
from benchlib.stack_shop import StackShop, free_starts
from benchlib.wrk import WrkResult, lua_list, lua_string, run_wrk, script

# Slot i of the booking load: staff i % S, start i // S (S = the booking service's staff).
# Past the last free start it wraps around: those requests then answer 409, which the
# statuses show (the free days hold far more slots than a run can book today).
BOOKING_LUA = """
local staff = @STAFF@
local starts = @STARTS@
local tokens = @TOKENS@
local path = @PATH@
local service = @SERVICE@

function build(i)
  local s = #staff
  local start = starts[(math.floor(i / s) % #starts) + 1]
  local body = '{"service_id": "' .. service .. '", "staff_id": "' .. staff[(i % s) + 1]
    .. '", "starts_at": "' .. start .. '"}'
  local headers = {["Content-Type"] = "application/json", ["Authorization"] = tokens[(i % #tokens) + 1]}
  return wrk.format("POST", path, headers, body)
end
"""

# Row i of bench_ceiling, on the minimal stack: a JSON body, as the booking POST has.
MINIMAL_LUA = """
local path = @PATH@

function build(i)
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, '{"n": ' .. i .. '}')
end
"""

# The minimal stack's transaction is BEGIN, the insert, COMMIT; `POST /insert/after/{k}`
# makes it 3 + k round trips (minimal_stack.py).
MINIMAL_ROUND_TRIPS = 3
# Each round-trip target writes rows of its own: row indices from k x this on (10 minutes
# each from 2030: a run of the curve writes far fewer than this many rows per target).
_TRIPS_ROWS = 10_000_000

# Row i of bench_ceiling, on bench/booking.py's stack-ceiling app (the API's layers).
LAYERED_LUA = """
function build(i)
  return wrk.format("POST", "/insert/" .. i, {}, nil)
end
"""


@dataclass
class Target:
    """One server under wrk: its script, the SQL that counts the rows it has written, and
    the index its next run starts at (every run takes indices no earlier run took)."""

    name: str
    url: str
    script_path: Path
    rows_sql: str
    params: dict[str, Any]
    next_index: int = 0
    server_group: int = 0  # the server's process group, whose CPU each run counts (0: none)


def booking_script(stack: StackShop) -> str:
    shop = stack.shop
    build = (
        BOOKING_LUA.replace("@STAFF@", lua_list([str(s) for s in shop.staff]))
        .replace("@STARTS@", lua_list(free_starts(stack)))
        .replace("@TOKENS@", lua_list([c.headers["Authorization"] for c in shop.customers]))
        .replace("@PATH@", lua_string(f"{shop.url}/bookings"))
        .replace("@SERVICE@", lua_string(str(shop.service_id)))
    )
    return script(build)


def minimal_script(path: str) -> str:
    return script(MINIMAL_LUA.replace("@PATH@", lua_string(path)))


def trips_target(extra: int) -> str:
    return f"minimal+{extra}"


def targets(
    stack: StackShop, folder: Path, servers: dict[str, Server], extra_trips: list[int]
) -> dict[str, Target]:
    """The booking POST, the minimal stack, the minimal stack with `extra_trips` more round
    trips and, when served, the layered ceiling app."""
    scripts = {
        "booking": booking_script(stack),
        "minimal": minimal_script("/insert"),
        "layered": script(LAYERED_LUA),
    }
    rows: dict[str, tuple[str, dict[str, Any]]] = {
        "booking": ("SELECT count(*) FROM booking WHERE business_id = :b", {"b": stack.shop.business_id}),
        "minimal": ("SELECT count(*) FROM bench_ceiling WHERE lane = :lane", {"lane": LANE}),
        # bench/booking.py's stack-ceiling app writes lane 1 (ceiling_app.span_of)
        "layered": ("SELECT count(*) FROM bench_ceiling WHERE lane = :lane", {"lane": 1}),
    }
    found: dict[str, Target] = {}
    for name, server in servers.items():
        path = folder / f"{name}.lua"
        path.write_text(scripts[name])
        sql, params = rows[name]
        found[name] = Target(name, server.base_url, path, sql, params, server_group=server.process.pid)
    if "minimal" in servers:
        minimal = found["minimal"]
        for extra in extra_trips:
            name = trips_target(extra)
            path = folder / f"{name}.lua"
            path.write_text(minimal_script(f"/insert/after/{extra}"))
            found[name] = Target(
                name,
                minimal.url,
                path,
                minimal.rows_sql,
                minimal.params,
                next_index=extra * _TRIPS_ROWS,
                server_group=minimal.server_group,
            )
    return found


async def rows_written(engine: AsyncEngine, target: Target) -> int:
    async with engine.connect() as conn:
        count: int = (await conn.execute(text(target.rows_sql), target.params)).scalar_one()
        return count


async def load(
    wrk: str, engine: AsyncEngine, target: Target, *, connections: int, seconds: float
) -> dict[str, Any]:
    """One wrk run; the rows the server committed meanwhile are counted by SQL (at least the
    2xx answers: a request cut off by wrk's end may still commit), and the CPU it cost by
    /proc (per 2xx answer)."""
    before = await rows_written(engine, target)
    cpu_before = snapshot(target.server_group)
    result: WrkResult = run_wrk(
        wrk, target.url, target.script_path, connections=connections, seconds=seconds, base=target.next_index
    )
    cpu_after = snapshot(target.server_group)
    target.next_index += result.figures["requests"] + 2 * connections + 16
    summary = result.summary()
    summary["cpu_ms_per_request"] = per_request(cpu_before, cpu_after, result.ok)
    summary["rows_committed"] = await rows_written(engine, target) - before
    return summary


async def sweep(
    wrk: str,
    engine: AsyncEngine,
    found: dict[str, Target],
    *,
    levels: list[int],
    layered_levels: list[int],
    seconds: float,
    warmup_seconds: float,
) -> dict[str, Any]:
    """A short warm-up of each server, then at each connection count the minimal stack and
    the booking POST back to back (and the layered app where asked), so that the machine's
    other work weighs on each pair alike; each ratio is of figures taken seconds apart."""
    for name in ("minimal", "booking", "layered"):
        if name not in found:
            continue
        target = found[name]
        log(f"  warm-up: {target.name}, 8 connections, {warmup_seconds:.0f}s")
        await load(wrk, engine, target, connections=8, seconds=warmup_seconds)
    results: list[dict[str, Any]] = []
    for connections in levels:
        level: dict[str, Any] = {"connections": connections}
        for name in ("minimal", "booking", "layered"):
            if name not in found or (name == "layered" and connections not in layered_levels):
                continue
            log(f"  {name}: {connections} connections, {seconds:.0f}s")
            level[name] = await load(wrk, engine, found[name], connections=connections, seconds=seconds)
        level["booking_vs_minimal"] = level["booking"]["per_second"] / level["minimal"]["per_second"]
        if "layered" in level:
            level["layered_vs_minimal"] = level["layered"]["per_second"] / level["minimal"]["per_second"]
        log(
            f"    minimal {level['minimal']['per_second']:,.0f}/s,"
            f" booking {level['booking']['per_second']:,.0f}/s: {level['booking_vs_minimal']:.1%}"
        )
        results.append(level)
    return {"seconds": seconds, "levels": results}


async def round_trip_curve(
    wrk: str,
    engine: AsyncEngine,
    found: dict[str, Target],
    *,
    levels: list[int],
    extra_trips: list[int],
    seconds: float,
    warmup_seconds: float,
) -> dict[str, Any]:
    """What round trips alone cost: at each count in flight, the minimal stack and then the
    same insert after k more statements in its transaction, back to back. Each ratio is to
    the minimal stack of the same level."""
    longest = found[trips_target(max(extra_trips))]
    log(f"  warm-up: {longest.name}, 8 connections, {warmup_seconds:.0f}s")
    await load(wrk, engine, longest, connections=8, seconds=warmup_seconds)
    results: list[dict[str, Any]] = []
    for connections in levels:
        log(f"  minimal: {connections} connections, {seconds:.0f}s")
        minimal = await load(wrk, engine, found["minimal"], connections=connections, seconds=seconds)
        rows = [{"round_trips": MINIMAL_ROUND_TRIPS, **minimal, "vs_minimal": 1.0}]
        for extra in extra_trips:
            name = trips_target(extra)
            log(f"  {name}: {connections} connections, {seconds:.0f}s")
            x = await load(wrk, engine, found[name], connections=connections, seconds=seconds)
            ratio = x["per_second"] / minimal["per_second"]
            rows.append({"round_trips": MINIMAL_ROUND_TRIPS + extra, **x, "vs_minimal": ratio})
            log(f"    {MINIMAL_ROUND_TRIPS + extra} round trips: {x['per_second']:,.0f}/s, {ratio:.1%}")
        results.append({"connections": connections, "rows": rows})
    return {"seconds": seconds, "levels": results}
