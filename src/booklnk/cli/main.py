"""`booklnk serve | migrate | citus-distribute | demo | worker | reconcile | kashier-sim | messages-sim |
create-admin`.

Only the options live here; each command imports `booklnk.cli.runs` (the whole stack) when
it runs, so `booklnk --help` and a mistyped option answer at once."""

from __future__ import annotations

import signal
from datetime import date
from typing import Annotated

import typer

app = typer.Typer(help="Booklnk: multi-tenant appointment booking.", no_args_is_help=True)
SIMULATOR_PORT = 8790  # where the default Kashier URLs point
MESSAGES_SIM_PORT = 8026  # the messages simulator's web port (its SMTP port is BOOKLNK_SMTP_PORT's)
RECONCILE_INCOMPLETE = 1  # `reconcile`'s exit code when some lookups failed


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (safe to run again)."""
    from booklnk.cli import runs

    runs.migrate(runs.settings())
    runs.tell("migrations_applied", "Database is up to date.")


@app.command("citus-distribute")
def citus_distribute() -> None:
    """On a Citus coordinator: migrate, then distribute the schema by business (reference
    tables, the coordinator's, the colocated tenant tables). Safe to run again; a run
    stopped anywhere is finished by the next."""
    from booklnk.cli import runs

    runs.citus_distribute(runs.settings())


@app.command()
def demo() -> None:
    """Load the demo businesses and accounts (idempotent), then print the logins."""
    from booklnk.cli import runs

    settings = runs.settings()
    runs.migrate(settings)
    runs.demo(settings)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Server processes.")] = 1,
    with_demo: Annotated[
        bool, typer.Option("--demo", envvar="BOOKLNK_DEMO", help="Load the demo data first.")
    ] = False,
    run_migrations: Annotated[
        bool,
        typer.Option(
            "--migrate/--no-migrate",
            help="Bring the schema up to date first (as the schema owner); --no-migrate where a"
            " migration step of its own ran and the API logs in as BOOKLNK_APP_DATABASE_URL.",
        ),
    ] = True,
    with_worker: Annotated[
        bool,
        typer.Option("--worker", help="Also run the worker (a child process, restarted if it dies)."),
    ] = False,
    with_simulator: Annotated[
        bool,
        typer.Option("--kashier-sim", help="Also run the Kashier simulator, as a child process."),
    ] = False,
    simulator_port: Annotated[
        int, typer.Option("--kashier-sim-port", min=1, max=65535, help="The simulator's port.")
    ] = SIMULATOR_PORT,
    simulator_host: Annotated[
        str, typer.Option("--kashier-sim-host", help="The simulator's interface (0.0.0.0 in a container).")
    ] = "127.0.0.1",
    with_messages_simulator: Annotated[
        bool,
        typer.Option(
            "--messages-sim",
            help="Also run the messages simulator (a child process): the SMTP server on BOOKLNK_SMTP_PORT"
            " (8025) that the e-mail goes to, and on --messages-sim-port the e-mail inbox, Cequens' SMS"
            " API and Meta's WhatsApp Cloud API.",
        ),
    ] = False,
    messages_simulator_port: Annotated[
        int, typer.Option("--messages-sim-port", min=1, max=65535, help="The messages simulator's web port.")
    ] = MESSAGES_SIM_PORT,
    messages_simulator_host: Annotated[
        str,
        typer.Option(
            "--messages-sim-host", help="The messages simulator's interface (0.0.0.0 in a container)."
        ),
    ] = "127.0.0.1",
) -> None:
    """Migrate, then serve the HTTP API. SIGTERM or SIGINT stops it, its children and the
    embedded PostgreSQL it started."""
    _exit_on(signal.SIGTERM)
    from booklnk.cli import runs

    runs.serve(
        host=host,
        port=port,
        workers=workers,
        with_demo=with_demo,
        run_migrations=run_migrations,
        with_worker=with_worker,
        simulator=(simulator_host, simulator_port) if with_simulator else None,
        messages_simulator=(
            (messages_simulator_host, messages_simulator_port) if with_messages_simulator else None
        ),
    )


def _exit_on(sig: signal.Signals) -> None:
    """Leave by SystemExit on `sig`, so atexit stops the children and the embedded
    PostgreSQL. (uvicorn shuts down gracefully on SIGTERM and then raises the signal again
    with the handler found before it started: by default that kills the process outright,
    leaving them all running.)"""

    def leave(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(sig, leave)


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Jobs run at once.")] = 4,
    gateway_concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Jobs calling Kashier run at once (their own queue).")
    ] = 4,
) -> None:
    """Run the background worker: payments, refunds, hold expiry, waitlists, periodic jobs.
    It outlives database outages (reconnecting with backoff) and answers /health and
    /metrics on BOOKLNK_WORKER_HEALTH_PORT."""
    from booklnk.cli import runs

    runs.worker(concurrency=concurrency, gateway_concurrency=gateway_concurrency)


@app.command()
def reconcile(
    day: Annotated[str, typer.Option("--date", help="YYYY-MM-DD: each business's own local day.")],
) -> None:
    """Compare every payment attempt of the day with Kashier; store and print mismatches.
    Exits 1 when a lookup failed (the day is not fully reconciled: run it again)."""
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        raise typer.BadParameter("give the day as YYYY-MM-DD", param_hint="--date") from None
    from booklnk.cli import runs

    failed = runs.reconcile(parsed)
    if failed:
        # A cron job or an operator's script must see that the day is not closed.
        runs.tell(
            "reconciliation_incomplete",
            f"{failed} lookups failed: the day is not fully reconciled; run it again.",
            lookups_failed=failed,
        )
        raise typer.Exit(RECONCILE_INCOMPLETE)


@app.command("kashier-sim")
def kashier_sim(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (the default Kashier URLs point here).")] = SIMULATOR_PORT,
) -> None:
    """Run the local Kashier simulator with this deployment's Kashier keys."""
    from booklnk.cli import runs

    runs.kashier_sim(host=host, port=port)


@app.command("messages-sim")
def messages_sim(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    smtp_port: Annotated[
        int | None, typer.Option(help="SMTP port; default BOOKLNK_SMTP_PORT (8025), where e-mail is sent.")
    ] = None,
    port: Annotated[int, typer.Option(help="The web port.")] = MESSAGES_SIM_PORT,
) -> None:
    """Run the local messaging providers: an SMTP server that keeps every e-mail (its inbox
    at http://HOST:PORT/, JSON at /messages), Cequens' SMS API at /cequens and Meta's
    WhatsApp Cloud API at /whatsapp (what each was sent: /cequens/__sim/messages,
    /whatsapp/__sim/messages), with this deployment's WhatsApp keys."""
    from booklnk.cli import runs

    runs.messages_sim(host=host, smtp_port=smtp_port, port=port)


@app.command()
def openapi() -> None:
    """Print the API's OpenAPI document (JSON), as /openapi.json serves it: for generating a
    client without running the server or a database."""
    from booklnk.cli import runs

    typer.echo(runs.openapi_document())


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="The admin's email.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, help="At least 10 characters.")],
    full_name: Annotated[str, typer.Option(help="Display name.")] = "Platform admin",
) -> None:
    """Create a platform admin, or promote an existing account (setting its password)."""
    from booklnk.cli import runs

    runs.create_admin(email=email, password=password, full_name=full_name)
