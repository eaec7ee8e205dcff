"""bench/stack.py's report: the throughput table against the minimal stack (wrk), the
concurrency sweep, the availability scaling tables, the issue's goals; markdown on stdout,
the same figures as JSON under bench/results/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchlib.output import RESULTS_DIR

HEADLINE = (8, 32)  # the connection counts for the booking / ceiling ratio
WHO = ("named", "any", "any, compact")  # the availability rows' order


def emit(report: dict[str, Any]) -> Path:
    report["goals"] = goals(report)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"stack-{report['timestamp'].replace(':', '')}.json"
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(markdown(report))
    print(f"\nJSON: {path}")
    return path


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"### Booking at the speed of the stack — {report['timestamp']}"
        + (" (quick)" if report["quick"] else ""),
        "",
        f"Machine: {m['cores']} cores ({m['cpu']}), Python {m['python']}, PostgreSQL {m['postgresql']} "
        f"({m['postgresql_server']}), {report['wrk']['version']}; load average {m['load_average_at_start']} "
        f"at start, {m['load_average_at_end']} at end.",
    ]
    if "throughput" in report:
        lines += throughput_lines(report["throughput"])
    if "round_trips" in report:
        lines += round_trip_lines(report["round_trips"], report.get("throughput"))
    if "availability" in report:
        lines += availability_lines(report["availability"])
    lines += goal_lines(report["goals"])
    return "\n".join(lines)


def _rate(x: dict[str, Any]) -> str:
    return f"{x['per_second']:,.0f}"


def _statuses(x: dict[str, Any]) -> str:
    text = ", ".join(f"{n:,} x {s}" for s, n in x["statuses"].items())
    return text + (f", {x['socket_errors']} socket errors" if x["socket_errors"] else "")


def throughput_lines(t: dict[str, Any]) -> list[str]:
    levels = t["levels"]
    layered = any("layered" in level for level in levels)
    head = (
        "| in flight | minimal stack /s | p50 / p99 ms | booking POST /s | p50 / p99 ms | booking / minimal |"
    )
    rule = "|---:|---:|---:|---:|---:|---:|"
    if layered:
        head += " API layers, one insert /s | layers / minimal |"
        rule += "---:|---:|"
    lines = [
        "",
        f"**Booking POST against the minimal stack, both under wrk** ({t['seconds']:.0f} s per run; "
        "in flight = wrk connections; each booking a distinct free slot)",
        "",
        head,
        rule,
    ]
    for level in levels:
        mi, bo = level["minimal"], level["booking"]
        row = (
            f"| {level['connections']} | {_rate(mi)} | {mi['p50_ms']:.1f} / {mi['p99_ms']:.1f} | "
            f"{_rate(bo)} | "
            f"{bo['p50_ms']:.1f} / {bo['p99_ms']:.1f} | **{level['booking_vs_minimal']:.1%}** |"
        )
        if layered:
            la = level.get("layered")
            row += f" {_rate(la)} | {level['layered_vs_minimal']:.1%} |" if la else " | |"
        lines.append(row)
    lines += ["", "Answers and rows committed (SQL count) per run:", ""]
    for level in levels:
        parts = [
            f"{name} {level[name]['ok']:,} ok ({_statuses(level[name])}),"
            f" {level[name]['rows_committed']:,} rows"
            for name in ("minimal", "booking", "layered")
            if name in level
        ]
        lines.append(f"* {level['connections']} in flight: " + "; ".join(parts))
    lines += cpu_lines(levels)
    if any(set(level["booking"]["statuses"]) != {"201"} for level in levels):
        lines += ["", "**Warning:** booking answers other than 201: not every request booked a free slot."]
    return lines


BOOKING_ROUND_TRIPS = 12  # README.md: a booking is 10 statements, with BEGIN and COMMIT 12


def round_trip_lines(t: dict[str, Any], throughput: dict[str, Any] | None) -> list[str]:
    booked = {lv["connections"]: lv["booking_vs_minimal"] for lv in (throughput or {}).get("levels", [])}
    lines = [
        "",
        f"**What round trips alone cost** ({t['seconds']:.0f} s per run): the minimal stack's insert "
        "after k more statements in its transaction (`SELECT $1::int`); a booking makes "
        f"{BOOKING_ROUND_TRIPS} round trips",
        "",
        "| in flight | round trips | per second | p50 / p99 ms | share of the minimal stack |"
        " CPU ms: server (kernel) / PostgreSQL / wrk |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for level in t["levels"]:
        for row in level["rows"]:
            lines.append(
                f"| {level['connections']} | {row['round_trips']} | {_rate(row)} | "
                f"{row['p50_ms']:.1f} / {row['p99_ms']:.1f} | {row['vs_minimal']:.1%} | {cpu_cell(row)} |"
            )
        if level["connections"] in booked:
            booking = f"{BOOKING_ROUND_TRIPS}: the booking POST (throughput above)"
            lines.append(f"| {level['connections']} | {booking} | | | {booked[level['connections']]:.1%} | |")
    return lines


def cpu_cell(x: dict[str, Any]) -> str:
    cpu = x.get("cpu_ms_per_request")
    if not cpu:
        return ""
    server = f"{cpu['server']:.2f} ({cpu['server_kernel']:.2f})"
    return f"{server} / {cpu['postgres']:.2f} / {cpu['load_generator']:.2f}"


def cpu_lines(levels: list[dict[str, Any]]) -> list[str]:
    """CPU per 2xx answer, from /proc: 2 cores / the sum is the most a run can answer."""
    names = [n for n in ("minimal", "booking", "layered") if any(n in level for level in levels)]
    lines = [
        "",
        "CPU per answer, ms (/proc: the server's processes, in brackets their time in the kernel / "
        "PostgreSQL's / wrk's; 2 cores ÷ their sum bounds the rate):",
        "",
        "| in flight | " + " | ".join(names) + " |",
        "|---:|" + "---:|" * len(names),
    ]
    for level in levels:
        cells = " | ".join(cpu_cell(level[n]) if n in level else "" for n in names)
        lines.append(f"| {level['connections']} | {cells} |")
    return lines


def _cell(case: dict[str, Any] | None, key: str) -> str:
    if case is None:
        return ""
    if key == "latency":
        return f"{case['p50_ms']:.1f} / {case['p95_ms']:.1f}"
    return f"{case.get('bytes', 0):,} ({case.get('slots', 0):,})"


def availability_lines(a: dict[str, Any]) -> list[str]:
    cases = a["grid"]
    days = sorted({c["days"] for c in cases})
    rows = sorted({(c["staff"], c["who"]) for c in cases}, key=lambda r: (r[0], WHO.index(r[1])))
    by = {(c["staff"], c["who"], c["days"]): c for c in cases}
    head = "| staff of the service | who | " + " | ".join(f"{d} d" for d in days) + " |"
    rule = "|---:|---|" + "---:|" * len(days)
    lines = []
    for key, title in (
        ("latency", "HTTP latency, p50 / p95 ms (sequential requests, whole body received)"),
        ("size", "Answer size, bytes (slots offered)"),
    ):
        lines += ["", f"**Availability scaling: {title}**", "", head, rule]
        for staff, who in rows:
            label = "one named" if who == "named" else who
            cells = " | ".join(_cell(by.get((staff, who, d)), key) for d in days)
            lines.append(f"| {staff} | {label} | {cells} |")
    samples = sorted({c["n"] for c in cases})
    lines += ["", f"Samples per case: {samples[0]}-{samples[-1]} (after 1 or 2 warm-up requests)."]
    bad = [c["case"] for c in cases + a.get("goal_cases", []) if set(c["statuses"]) != {"200"}]
    if bad:
        lines.append(f"**Warning:** answers other than 200 in: {', '.join(bad)} (see JSON).")
    return lines


def goals(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    levels = {lv["connections"]: lv for lv in report.get("throughput", {}).get("levels", [])}
    for c in HEADLINE:
        if c in levels:
            r = levels[c]["booking_vs_minimal"]
            rows.append(
                _goal(f"booking POST / minimal stack, {c} in flight", ">= 35%", f"{r:.1%}", r >= 0.35)
            )
    if 8 in levels:
        at8 = levels[8]["booking"]["per_second"]
        for c in (32, 64):
            if c in levels:
                x = levels[c]["booking"]["per_second"]
                rows.append(
                    _goal(f"booking/s at {c} in flight vs at 8", f">= {at8:,.0f}/s", f"{x:,.0f}/s", x >= at8)
                )
    found = {
        (c["days"], c["staff"], c["who"]): c for c in report.get("availability", {}).get("goal_cases", [])
    }
    for (d, s, who), limit, size in (
        ((14, 50, "named"), 5, None),
        ((14, 50, "any"), 15, None),
        ((14, 50, "any, compact"), 15, None),
        ((62, 200, "any"), 120, 500_000),
        ((62, 200, "any, compact"), 120, 500_000),
    ):
        case = found.get((d, s, who))
        if case is None:
            continue
        named = who == "named"
        label = f"availability, {'one named' if named else f'any of {s}' + who[3:]}, {d} days, HTTP p50"
        rows.append(_goal(label, f"<= {limit} ms", f"{case['p50_ms']:.1f} ms", case["p50_ms"] <= limit))
        if size:
            rows.append(
                _goal(
                    "the same, answer size",
                    "< 500 KB",
                    f"{case['bytes'] / 1000:,.0f} KB",
                    case["bytes"] < size,
                )
            )
    return rows


def _goal(target: str, goal: str, measured: str, met: bool) -> dict[str, Any]:
    return {"target": target, "goal": goal, "measured": measured, "met": met}


def goal_lines(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "",
        "**Against issue 13's goals**",
        "",
        "| target | goal | measured | met |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {g['target']} | {g['goal']} | {g['measured']} | {'yes' if g['met'] else '**no**'} |" for g in rows
    ]
    return lines
