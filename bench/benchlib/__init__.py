"""The benchmarks' shared library. The scripts in bench/ are run as files,
so bench/ is first on sys.path and this package imports as `benchlib`.

Shared by both scripts: `output` (progress log, results folder), `stats` (percentiles,
closed loops, sampling), `processes` (servers as process groups), `database` (the bench
database and the machine's description).

The booking benchmark's own parts: `scenario` (constants and time budgets), `shop` (the
seeded shop), `availability_latency` (a), `booking_load` (b, c, e and the audit),
`ceilings` (d), `ceiling_app` (the stack-ceiling app) and `booking_report`.

bench/stack.py's parts (issue 13): `wrk` (the outside load generator: installed when
missing, Lua scripts, its figures), `minimal_stack` (the ceiling: FastAPI + uvicorn +
asyncpg, one guarded insert per POST), `stack_shop` (its shop and calendar), `stack_load`
(the booking POST and the ceilings under wrk, the sweep), `availability_scaling` (days x
staff) and `stack_report`.

bench/webhooks.py and bench/intake.py share `kashier_orders` (the keys, a webhook's body,
the seeded orders); bench/intake.py also uses bench/stack.py's `wrk` and `minimal_stack`.
"""
