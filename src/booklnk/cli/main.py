"""`booklnk serve | migrate | demo | worker | create-admin`."""

from __future__ import annotations

import asyncio
import atexit
import os
import signal
from datetime import date
from typing import Annotated

import structlog
import typer
import uvicorn
from pydantic import ValidationError

from booklnk.bootstrap import (
    database_url,
    kashier_config,
    load_business_types,
    load_settings,
    open_database,
    passwords_for,
)
from booklnk.cli import served
from booklnk.cli.children import Child
from booklnk.config import Settings
from booklnk.db.migrate import upgrade
from booklnk.demo.loader import Login, load_demo
from booklnk.jobs import worker as worker_loop
from booklnk.jobs.health import Health, HealthServer
from booklnk.jobs.runtime import Runtime
from booklnk.jobs.tasks import create_job_app
from booklnk.kernel.clock import SystemClock, utcnow
from booklnk.logging import configure_logging
from booklnk.payments import reconciliation
from booklnk.payments.kashier.client import KashierClient
from booklnk.payments.kashier.simulator import serve as serve_simulator
from booklnk.tenancy.auth import make_platform_admin
from booklnk.tenancy.schemas import RegisterIn
from booklnk.tenancy.system import business_ids

app = typer.Typer(help="Booklnk: multi-tenant appointment booking.", no_args_is_help=True)
log = structlog.get_logger(__name__)
SIMULATOR_PORT = 8790  # where the default Kashier URLs point
RECONCILE_INCOMPLETE = 1  # `reconcile`'s exit code when some lookups failed


def _settings() -> Settings:
    settings = load_settings()
    configure_logging(json=settings.json_logs, level=settings.log_level)
    return settings


def _migrate(settings: Settings) -> str:
    url = database_url(settings)
    typer.echo("Applying migrations…", err=True)
    upgrade(url)
    return url


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (safe to run again)."""
    _migrate(_settings())
    typer.echo("Database is up to date.", err=True)


@app.command()
def demo() -> None:
    """Load the demo businesses and accounts (idempotent), then print the logins."""
    settings = _settings()
    _migrate(settings)
    _print_demo(asyncio.run(_load_demo(settings)))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Server processes.")] = 1,
    with_demo: Annotated[bool, typer.Option("--demo", help="Load the demo data first.")] = False,
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
) -> None:
    """Migrate, then serve the HTTP API. SIGTERM or SIGINT stops it, its children and the
    embedded PostgreSQL it started."""
    _exit_on(signal.SIGTERM)
    base = f"http://{host}:{port}"
    sim = simulator_port if with_simulator else None
    os.environ.update(served.defaults(os.environ, host=host, port=port, simulator_port=sim))
    settings = _settings()
    urls = {
        "BOOKLNK_PUBLIC_BASE_URL": settings.public_base_url,
        "BOOKLNK_KASHIER_HPP_URL": settings.kashier_hpp_url,
        "BOOKLNK_KASHIER_API_URL": settings.kashier_api_url,
        "BOOKLNK_KASHIER_FEP_URL": settings.kashier_fep_url,
    }
    for found in served.elsewhere(urls, port=port, simulator_port=sim):
        log.warning("url_points_elsewhere", setting=found.setting, port=found.port, served=found.served)
    url = _migrate(settings)
    if with_demo:
        _print_demo(asyncio.run(_load_demo(settings)))
    os.environ["DATABASE_URL"] = url  # the resolved (maybe embedded) server
    if with_worker:
        atexit.register(Child("worker").start().stop)
    if with_simulator:
        atexit.register(Child("kashier-sim", "--port", str(simulator_port)).start().stop)
    typer.echo(f"API docs: {base}/docs  (ReDoc: {base}/redoc, OpenAPI: {base}/openapi.json)", err=True)
    uvicorn.run(
        "booklnk.api.main:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
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
    settings = _settings()
    url = _migrate(settings)
    typer.echo("Worker started. Ctrl-C to stop.", err=True)
    options = worker_loop.Options(
        concurrency=concurrency,
        gateway_concurrency=gateway_concurrency,
        heartbeat_seconds=settings.worker_heartbeat_seconds,
        stalled_seconds=settings.worker_stalled_seconds,
    )
    asyncio.run(_run_worker(settings, url, options))


async def _run_worker(settings: Settings, url: str, options: worker_loop.Options) -> None:
    runtime = Runtime(open_database(settings), SystemClock(), settings)
    health = Health(settings.worker_stalled_seconds)
    server = HealthServer(health, settings.worker_health_host, settings.worker_health_port)
    server.serve()
    try:
        async with create_job_app(url).open_async() as job_app:
            await worker_loop.run(job_app, runtime, options, health)
    finally:
        server.close()
        await runtime.aclose()
        await runtime.db.dispose()


@app.command()
def reconcile(
    day: Annotated[str, typer.Option("--date", help="YYYY-MM-DD: each business's own local day.")],
) -> None:
    """Compare every payment attempt of the day with Kashier; store and print mismatches."""
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        raise typer.BadParameter("give the day as YYYY-MM-DD", param_hint="--date") from None
    settings = _settings()
    _migrate(settings)
    failed = asyncio.run(_reconcile(settings, parsed))
    if failed:
        # A cron job or an operator's script must see that the day is not closed.
        typer.echo(f"{failed} lookups failed: the day is not fully reconciled; run it again.", err=True)
        raise typer.Exit(RECONCILE_INCOMPLETE)


async def _reconcile(settings: Settings, day: date) -> int:
    """Reconcile every business's `day`; the number of lookups that failed."""
    failed = 0
    db = open_database(settings)
    try:
        async with db.transaction() as session:
            tenants = await business_ids(session)
        async with KashierClient(kashier_config(settings)) as client:
            for number, tenant in enumerate(tenants, 1):

                def progress(done: int, total: int, number: int = number) -> None:
                    typer.echo(
                        f"\r  business {number}/{len(tenants)}: {done}/{total} orders", nl=False, err=True
                    )

                result = await reconciliation.reconcile(
                    db,
                    client,
                    tenant,
                    day,
                    now=utcnow(),
                    progress=progress,
                    lookback_days=settings.reconcile_lookback_days,
                )
                failed += result.lookups_failed if result is not None else 0
                if result is not None and result.orders_checked:
                    retry = " (run the day again to retry them)" if result.lookups_failed else ""
                    typer.echo(
                        f"\r  business {tenant}: {result.orders_checked} orders, "
                        f"{result.new_mismatches} new mismatches, {result.healed} healed, "
                        f"{result.lookups_failed} lookups failed{retry}",
                        err=True,
                    )
    finally:
        await db.dispose()
    return failed


@app.command("kashier-sim")
def kashier_sim(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (the default Kashier URLs point here).")] = SIMULATOR_PORT,
) -> None:
    """Run the local Kashier simulator with this deployment's Kashier keys."""
    settings = _settings()
    typer.echo(f"Kashier simulator on http://{host}:{port} (admin: /__sim/*)", err=True)
    serve_simulator(
        host,
        port,
        api_key=settings.kashier_api_key.get_secret_value(),
        secret_key=settings.kashier_secret_key.get_secret_value(),
        mid=settings.kashier_mid,
    )


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="The admin's email.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, help="At least 10 characters.")],
    full_name: Annotated[str, typer.Option(help="Display name.")] = "Platform admin",
) -> None:
    """Create a platform admin, or promote an existing account (setting its password)."""
    try:
        account = RegisterIn(email=email, password=password, full_name=full_name)
    except ValidationError as exc:
        raise typer.BadParameter("; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())) from exc
    settings = _settings()
    _migrate(settings)

    async def run() -> None:
        db = open_database(settings)
        try:
            async with db.transaction() as session:
                await make_platform_admin(
                    session,
                    passwords_for(settings),
                    email=str(account.email),
                    password=account.password,
                    full_name=account.full_name,
                )
        finally:
            await db.dispose()

    asyncio.run(run())
    typer.echo(f"Platform admin {account.email} is ready.", err=True)


async def _load_demo(settings: Settings) -> list[Login]:
    if settings.environment == "production":
        # The demo's accounts have a published password, one of them a platform admin.
        raise typer.BadParameter("the demo is not loaded in production")
    db = open_database(settings)
    try:
        await load_business_types(db, settings)
        return await load_demo(db, passwords_for(settings))
    finally:
        await db.dispose()


def _print_demo(logins: list[Login]) -> None:
    typer.echo("Demo logins (email / password / what):", err=True)
    for login in logins:
        typer.echo(f"  {login.email:<30} {login.password:<18} {login.what}", err=True)
