"""What the commands do, once their options are parsed: this module imports the whole stack
(the database, the jobs, Kashier's client, the web server), so `booklnk.cli.main` imports
it only inside a command, and `booklnk --help` stays quick."""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import shutil
import tempfile
import uuid
from datetime import date

import structlog
import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from booklnk.api.app import create_app
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
from booklnk.db import citus
from booklnk.db.database import Database
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
from booklnk.tenancy.schemas import AdminIn
from booklnk.tenancy.system import business_ids

log = structlog.get_logger(__name__)
# Set once by `settings()`: whether this process's stderr carries JSON lines only.
_json_lines = False


def settings() -> Settings:
    global _json_lines
    found = load_settings()
    configure_logging(json=found.json_logs, level=found.log_level)
    _json_lines = found.json_logs
    return found


def tell(event: str, text: str, **fields: object) -> None:
    """A line for whoever runs the command: plain text on a console, an event like every
    other line where logs are JSON (a collector reads one format per stream)."""
    if _json_lines:
        log.info(event, **fields)
    else:
        typer.echo(text, err=True)


def migrate(settings: Settings) -> str:
    url = database_url(settings)
    tell("migrations_applying", "Applying migrations…")
    upgrade(url)
    return url


def citus_distribute(settings: Settings) -> None:
    url = migrate(settings)
    try:
        asyncio.run(citus.distribute_database(url, lambda line: tell("citus_step", line, step=line)))
    except RuntimeError as exc:
        tell("citus_distribution_refused", f"Not distributed: {exc}", reason=str(exc))
        raise typer.Exit(1) from None
    tell("citus_distributed", "The schema is distributed.")


def demo(settings: Settings) -> None:
    print_demo(asyncio.run(_load_demo(settings)))


def serve(
    *,
    host: str,
    port: int,
    workers: int,
    with_demo: bool,
    run_migrations: bool,
    with_worker: bool,
    simulator: tuple[str, int] | None,
    messages_simulator: tuple[str, int] | None,
) -> None:
    base = f"http://{host}:{port}"
    simulator_port = simulator[1] if simulator else None
    messages_port = messages_simulator[1] if messages_simulator else None
    os.environ.update(
        served.defaults(
            os.environ, host=host, port=port, simulator_port=simulator_port, messages_port=messages_port
        )
    )
    found = settings()
    urls = {
        "BOOKLNK_PUBLIC_BASE_URL": found.public_base_url,
        "BOOKLNK_KASHIER_HPP_URL": found.kashier_hpp_url,
        "BOOKLNK_KASHIER_API_URL": found.kashier_api_url,
        "BOOKLNK_KASHIER_FEP_URL": found.kashier_fep_url,
    }
    for elsewhere in served.elsewhere(urls, port=port, simulator_port=simulator_port):
        log.warning(
            "url_points_elsewhere", setting=elsewhere.setting, port=elsewhere.port, served=elsewhere.served
        )
    if run_migrations:
        os.environ["DATABASE_URL"] = migrate(found)  # the resolved (maybe embedded) server
    if with_demo:
        demo(found)
    children = dict(os.environ)  # before the server processes' metrics folder: not theirs
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_folder()
    if with_worker:
        atexit.register(Child("worker", env=children).start().stop)
    if simulator is not None:
        sim_host, sim_port = simulator
        argv = ("--host", sim_host, "--port", str(sim_port))
        atexit.register(Child("kashier-sim", *argv, env=children).start().stop)
    if messages_simulator is not None:
        at, web = messages_simulator
        smtp = str(found.smtp_port)
        atexit.register(
            Child("messages-sim", "--host", at, "--smtp-port", smtp, "--port", str(web), env=children)
            .start()
            .stop
        )
    tell(
        "web_serving",
        f"Web app: {base}/ar/  (English: {base}/en/; the demo's booking page: {base}/ar/b/cairo-cuts;"
        f" the front desk: {base}/ar/desk)",
        web=f"{base}/ar/",
    )
    tell(
        "api_serving",
        f"API docs: {base}/docs  (ReDoc: {base}/redoc, OpenAPI: {base}/openapi.json)",
        docs=f"{base}/docs",
    )
    uvicorn.run(
        "booklnk.api.main:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        proxy_headers=True,
        forwarded_allow_ips=found.trusted_proxies,
    )


def _metrics_folder() -> str:
    """Where the server processes write their metrics for each other (prometheus_client's
    multiprocess mode), emptied when serve exits: a run's numbers start at zero."""
    folder = tempfile.mkdtemp(prefix="booklnk-metrics-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def worker(*, concurrency: int, gateway_concurrency: int) -> None:
    found = settings()
    url = migrate(found)
    tell("worker_starting", "Worker started. Ctrl-C to stop.")
    options = worker_loop.Options(
        concurrency=concurrency,
        gateway_concurrency=gateway_concurrency,
        heartbeat_seconds=found.worker_heartbeat_seconds,
        stalled_seconds=found.worker_stalled_seconds,
    )
    asyncio.run(_run_worker(found, url, options))


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


def reconcile(day: date) -> int:
    """Reconcile every business's `day`; the number of lookups that failed."""
    found = settings()
    migrate(found)
    return asyncio.run(_reconcile(found, day))


async def _reconcile(settings: Settings, day: date) -> int:
    failed = 0
    db = open_database(settings)
    try:
        async with db.transaction() as session:
            tenants = await business_ids(session)
        async with KashierClient(kashier_config(settings)) as client:
            with _progress() as progress:
                for number, tenant in enumerate(tenants, 1):
                    task = progress.add_task(f"business {number}/{len(tenants)}", total=None)

                    def advance(done: int, total: int, task: TaskID = task) -> None:
                        progress.update(task, completed=done, total=total)

                    result = await reconciliation.reconcile(
                        db,
                        client,
                        tenant,
                        day,
                        now=utcnow(),
                        progress=advance,
                        lookback_days=settings.reconcile_lookback_days,
                    )
                    progress.remove_task(task)
                    if result is not None:
                        failed += result.lookups_failed
                        _tell_reconciled(tenant, day, result)
    finally:
        await db.dispose()
    return failed


def _tell_reconciled(tenant: uuid.UUID, day: date, result: reconciliation.RunResult) -> None:
    if not result.orders_checked:
        return
    retry = " (run the day again to retry them)" if result.lookups_failed else ""
    tell(
        "reconciled",
        f"  business {tenant}: {result.orders_checked} orders, {result.new_mismatches} new mismatches,"
        f" {result.healed} healed, {result.lookups_failed} lookups failed{retry}",
        business_id=str(tenant),
        day=day.isoformat(),
        orders=result.orders_checked,
        new_mismatches=result.new_mismatches,
        healed=result.healed,
        lookups_failed=result.lookups_failed,
    )


def _progress() -> Progress:
    """A bar per business on a terminal's stderr; nothing where logs are JSON or stderr is
    not a terminal (a cron job's log gets the result lines only)."""
    console = Console(stderr=True)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
        disable=_json_lines or not console.is_terminal,
    )


def openapi_document() -> str:
    found = load_settings()
    # The document needs the routes only: a database that is never connected to.
    unused = Database("postgresql+asyncpg://document-only/none", app_role=found.db_app_role)
    return json.dumps(create_app(found, unused).openapi(), indent=2)


def messages_sim(*, host: str, smtp_port: int | None, port: int) -> None:
    from booklnk.notifications.simulators import messages
    from booklnk.notifications.simulators.whatsapp import WhatsAppSim

    found = settings()
    smtp = smtp_port if smtp_port is not None else found.smtp_port
    web = f"http://{host}:{port}"
    tell(
        "messages_simulator_serving",
        f"Messages simulator: SMTP on {host}:{smtp}, inbox on {web}/, SMS at {web}/cequens, WhatsApp at"
        f" {web}/whatsapp",
        smtp=f"{host}:{smtp}",
        inbox=f"{web}/",
    )
    # Meta posts its status webhooks to the app; signed with the app secret it is told.
    whatsapp_sim = WhatsAppSim(
        access_token=found.whatsapp_access_token.get_secret_value(),
        app_secret=found.whatsapp_app_secret.get_secret_value(),
        webhook_url=f"{found.public_base_url.rstrip('/')}/v1/webhooks/whatsapp",
    )
    messages.serve(host, smtp, port, whatsapp_sim=whatsapp_sim)


def kashier_sim(*, host: str, port: int) -> None:
    found = settings()
    tell(
        "simulator_serving",
        f"Kashier simulator on http://{host}:{port} (admin: /__sim/*)",
        url=f"http://{host}:{port}",
    )
    serve_simulator(
        host,
        port,
        api_key=found.kashier_api_key.get_secret_value(),
        secret_key=found.kashier_secret_key.get_secret_value(),
        mid=found.kashier_mid,
    )


def create_admin(*, email: str, password: str, full_name: str) -> None:
    try:
        account = AdminIn(email=email, password=password, full_name=full_name)
    except ValidationError as exc:
        raise typer.BadParameter("; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())) from exc
    found = settings()
    migrate(found)

    async def run() -> None:
        db = open_database(found)
        try:
            async with db.transaction() as session:
                await make_platform_admin(
                    session,
                    passwords_for(found),
                    email=str(account.email),
                    password=account.password,
                    full_name=account.full_name,
                )
        finally:
            await db.dispose()

    asyncio.run(run())
    tell("admin_ready", f"Platform admin {account.email} is ready.", email=str(account.email))


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


def print_demo(logins: list[Login]) -> None:
    if _json_lines:  # (never in production: the demo is refused there)
        log.info(
            "demo_logins", logins=[{"email": x.email, "password": x.password, "what": x.what} for x in logins]
        )
        return
    typer.echo("Demo logins (email / password / what):", err=True)
    for login in logins:
        typer.echo(f"  {login.email:<30} {login.password:<18} {login.what}", err=True)
