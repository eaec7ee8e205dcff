"""The booking benchmark's report: ratios, the issue's targets, the markdown tables on
stdout and the JSON under bench/results/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchlib.output import RESULTS_DIR
from benchlib.scenario import CONCURRENCY, RACE_SLOTS


def ratios(report: dict[str, Any]) -> dict[str, float]:
    booking = report["uncontended"]["per_second"]
    ceilings = report["ceilings"]
    return {
        "booking_vs_stack": booking / ceilings["stack"]["per_second"],
        "booking_vs_db": booking / ceilings["db"]["per_second"],
        "booking_vs_db_bare": booking / ceilings["db_bare"]["per_second"],
    }


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    by_case = {(a["days"], a["staff"]): a["http"]["p50_ms"] for a in report["availability"]}
    audit_ = report["audit"]
    fives = server_errors(report)
    double = audit_["overlapping_active_allocations"] + (
        RACE_SLOTS - audit_["race_slots_booked_exactly_once"]
    )
    rows = [
        (
            "availability, one staff, 14 days, HTTP p50",
            "<= 15 ms",
            f"{by_case[(14, 'one')]:.1f} ms",
            by_case[(14, "one")] <= 15,
        ),
        (
            "availability, any of 50, 14 days, HTTP p50",
            "<= 60 ms",
            f"{by_case[(14, 'any')]:.1f} ms",
            by_case[(14, "any")] <= 60,
        ),
        (
            "uncontended booking / stack ceiling (in-process client)",
            ">= 40%",
            f"{report['ratios']['booking_vs_stack']:.1%}",
            report["ratios"]["booking_vs_stack"] >= 0.4,
        ),
        (
            "the same, from interleaved slices (e)",
            ">= 40%",
            f"{report['interleaved']['booking_vs_stack']:.1%}",
            report["interleaved"]["booking_vs_stack"] >= 0.4,
        ),
        ("double-bookings (overlaps + race slots not booked exactly once)", "0", str(double), double == 0),
        ("5xx responses, whole run", "0", str(fives), fives == 0),
    ]
    return [{"target": t, "goal": g, "measured": m, "met": ok} for t, g, m, ok in rows]


def server_errors(report: dict[str, Any]) -> int:
    counters = [
        report["uncontended"]["outcomes"],
        report["contended"]["statuses"],
        report["ceilings"]["stack"]["outcomes"],
        report["interleaved"]["booking"]["outcomes"],
        report["interleaved"]["stack"]["outcomes"],
        *(a["http_statuses"] for a in report["availability"]),
    ]
    return sum(n for counter in counters for status, n in counter.items() if status.startswith("5"))


def markdown(report: dict[str, Any]) -> str:
    m, s = report["machine"], report["scenario"]
    lines = [
        f"### Booking benchmark — {report['timestamp']}{' (quick)' if report['quick'] else ''}",
        "",
        f"Machine: {m['cores']} cores ({m['cpu']}), Python {m['python']}, PostgreSQL {m['postgresql']} "
        f"({m['postgresql_server']}); load average {m['load_average_at_start']} at start, "
        f"{m['load_average_at_end']} at end.",
        f"Scenario: {s['business_type']} in {s['time_zone']}, {s['staff']} staff {s['staff_hours']}, "
        f"{s['seeded_bookings']:,} bookings on {s['seeded_days']}, 30-minute service (+5 min buffer), "
        f"API on {s['api_workers']} uvicorn workers, {s['concurrency']} requests in flight for (b) and (d).",
        "",
        "**(a) Availability latency** (ms; sequential requests; window starts tomorrow 00:00 local)",
        "",
        "| case | slots | response | engine p50 | p95 | prepare+engine p50 | p95 | HTTP p50 | p95 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for a in report["availability"]:
        e, f, h = a["engine"], a["in_process"], a["http"]
        size = f"{a.get('response_kib', 0):,.0f} KiB"
        figures = [e["p50_ms"], e["p95_ms"], f["p50_ms"], f["p95_ms"], h["p50_ms"], h["p95_ms"]]
        lines.append(f"| {a['case']} | {a['engine_slots']} | {size} | " + " | ".join(map(ms, figures)) + " |")
    if any(a.get("http_slots") != a["engine_slots"] for a in report["availability"]):
        lines.append("\n**Warning:** the HTTP slot count differs from the engine's for some case (see JSON).")
    return "\n".join(lines + throughput_lines(report) + race_lines(report) + target_lines(report))


def ms(value: float) -> str:
    """Two decimals below 10 ms (the engine's figures), one above."""
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def throughput_lines(report: dict[str, Any]) -> list[str]:
    u, c, r = report["uncontended"], report["ceilings"], report["ratios"]
    rows = [
        ("(b) uncontended booking, HTTP (POST /bookings, named staff)", u),
        ("(d) DB ceiling: 1-row guarded insert in the app's transaction, no HTTP", c["db"]),
        ("(d) DB ceiling, bare BEGIN/INSERT/COMMIT (for reference)", c["db_bare"]),
        ("(d) stack ceiling: HTTP request doing only that insert", c["stack"]),
    ]
    lines = [
        "",
        f"**(b) and (d) Throughput** ({CONCURRENCY} in flight; in-process client: the bench's one Python"
        " process on the same cores, which caps the fast ceilings most; bench/stack.py has the wrk figures)",
        "",
        "| measure | done | per second | p50 ms | p99 ms | outcomes |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, x in rows:
        lines.append(
            f"| {name} | {x['ok']:,} | {x['per_second']:,.0f} | {x['p50_ms']:.1f} | "
            f"{x['p99_ms']:.1f} | {x['outcomes']} |"
        )
    lines += [
        "",
        f"Ratios (in-process client): booking / stack ceiling = **{r['booking_vs_stack']:.1%}**, booking / DB"
        " ceiling = "
        f"**{r['booking_vs_db']:.1%}** (bare: {r['booking_vs_db_bare']:.1%}).",
    ]
    e = report["interleaved"]
    booked, stacked = e["booking"], e["stack"]
    lines += [
        "",
        f"(e) Interleaved, {e['slices']} rounds of {e['slice_seconds']:.1f} s each: booking "
        f"{booked['per_second']:,.0f}/s (p50 {booked['p50_ms']:.1f} ms, {booked['outcomes']}), "
        f"stack ceiling {stacked['per_second']:,.0f}/s ({stacked['outcomes']}): "
        f"booking / stack ceiling = **{e['booking_vs_stack']:.1%}**.",
    ]
    return lines


def race_lines(report: dict[str, Any]) -> list[str]:
    c, a = report["contended"], report["audit"]
    return [
        "",
        "**(c) Contended creation** (all clients released together)",
        "",
        "| clients | slots | wall s | requests/s | p50 ms | p99 ms | 201 | 409 slot_unavailable | statuses |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        f"| {c['clients']} | {c['slots']} | {c['seconds']:.2f} | {c['per_second']:.0f} | {c['p50_ms']:.0f} | "
        f"{c['p99_ms']:.0f} | {c['created']} | {c['conflicts_409_slot_unavailable']} | {c['statuses']} |",
        "",
        "Audit (SQL): overlapping active allocations on any lane = "
        f"**{a['overlapping_active_allocations']}**; "
        f"race slots booked exactly once = {a['race_slots_booked_exactly_once']}/{RACE_SLOTS}; race bookings "
        f"in the database = {a['race_bookings_in_db']} (same ids as the 201s: {a['race_db_matches_201s']}); "
        f"bookings in the business = {a['bookings_in_db']:,} (expected {a['bookings_expected']:,}).",
    ]


def target_lines(report: dict[str, Any]) -> list[str]:
    lines = ["", "**Targets (issue 3)**", "", "| target | goal | measured | met |", "|---|---|---|---|"]
    lines += [
        f"| {t['target']} | {t['goal']} | {t['measured']} | {'yes' if t['met'] else '**no**'} |"
        for t in report["targets"]
    ]
    return lines


def emit(report: dict[str, Any]) -> Path:
    report["ratios"] = ratios(report)
    report["targets"] = targets(report)
    report["server_errors_5xx"] = server_errors(report)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"booking-{report['timestamp'].replace(':', '')}.json"
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(markdown(report))
    print(f"\nJSON: {path}")
    return path
