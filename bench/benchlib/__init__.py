"""The benchmarks' shared library. bench/booking.py and bench/webhooks.py are run as files,
so bench/ is first on sys.path and this package imports as `benchlib`.

Shared by both scripts: `output` (progress log, results folder), `stats` (percentiles,
closed loops, sampling), `processes` (servers as process groups), `database` (the bench
database and the machine's description).

The booking benchmark's own parts: `scenario` (constants and time budgets), `shop` (the
seeded shop), `availability_latency` (a), `booking_load` (b, c, e and the audit),
`ceilings` (d), `ceiling_app` (the stack-ceiling app) and `booking_report`.
"""
