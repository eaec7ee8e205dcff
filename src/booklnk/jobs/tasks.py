"""The worker's tasks and periodic jobs, and the procrastinate app that runs them.

Jobs are enqueued by the domains in their own transactions (``booklnk.db.jobs``), by
task name. Every task is idempotent: it re-reads the state and does only what is still
to do, so a retry, a duplicate or a job that ran late is harmless. Failures retry with
backoff.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import structlog
from procrastinate import App, JobContext, PsycopgConnector, RetryStrategy
from psycopg.conninfo import make_conninfo
from sqlalchemy import make_url

from booklnk.booking import holds, messages
from booklnk.booking.classes import enrolment, seats, series
from booklnk.db.database import application_name
from booklnk.db.jobs import GATEWAY_QUEUE
from booklnk.integrations import delivery as webhook_delivery
from booklnk.integrations import events as integration_events
from booklnk.jobs import metrics
from booklnk.jobs.runtime import runtime_of
from booklnk.notifications import delivery, outbox
from booklnk.payments import reconciliation, refunds, settlement, sweeps, webhooks
from booklnk.payments.kashier.client import OrderLookup
from booklnk.tenancy import housekeeping
from booklnk.tenancy.system import business_ids, system_context

log = structlog.get_logger(__name__)
RETRY = RetryStrategy(max_attempts=10, exponential_wait=2)
# Every task `db.jobs.enqueue` enqueues takes the request id it adds (read by the worker's
# `carry_request_id`, not by the task).
RequestId = str | None
SWEEP_LAPSED_HOLDS = "booking.sweep_lapsed_holds"
EXTEND_SERIES = "classes.extend_series"
PRUNE_ACCOUNTS = "tenancy.prune"
RECONCILE = "payments.reconcile_yesterday"
SWEEP_STUCK_PAYMENTS = "payments.sweep_stuck"
RETRY_STALLED = "jobs.retry_stalled"
REQUEUE_MESSAGES = "notifications.requeue_orphaned"
REQUEUE_WEBHOOKS = "integrations.requeue_due"
# A message waits out a provider's outage: retried at 2, 4, 8 … s, the last wait about an
# hour (some 2.3 hours in all); past that the sweep gives it a new job every five minutes,
# until it is sent or its own expiry passes.
MESSAGE_RETRY = RetryStrategy(max_attempts=12, exponential_wait=2)


class LookupsFailed(Exception):
    """Kashier did not answer for some orders: the reconciliation job is retried."""


def psycopg_conninfo(database_url: str) -> str:
    """procrastinate's driver (psycopg) reads the same server URL as the app's (asyncpg);
    its connections name their process as the app's do (`booklnk-jobs-<pid>`), so an
    operator tells a worker's queue connections from its task connections."""
    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    return make_conninfo(url, application_name=application_name("booklnk-jobs"))


async def retry_stalled_jobs(app: App, stalled_seconds: float) -> list[int]:
    """Run again every job left `doing` by a worker that died (its heartbeat is older than
    `stalled_seconds`, or its worker row is gone): the job goes back to `todo`, which frees
    the lock it held (a payment's order), and its retry does only what is left."""
    retried = []
    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_seconds):
        await app.job_manager.retry_job(job)
        assert job.id is not None
        retried.append(job.id)
    if retried:
        metrics.STALLED_RETRIED.inc(len(retried))
        log.warning("stalled_jobs_retried", jobs=retried)
    return retried


def create_job_app(database_url: str) -> App:
    app = App(connector=PsycopgConnector(conninfo=psycopg_conninfo(database_url), min_size=1, max_size=4))
    _register(app)
    return app


async def _business_ids(context: JobContext) -> list[uuid.UUID]:
    async with runtime_of(context).db.transaction() as session:
        return await business_ids(session)


def _register(app: App) -> None:
    @app.task(name=holds.EXPIRE_HOLD, pass_context=True, retry=RETRY)
    async def expire_hold(
        context: JobContext, business_id: str, booking_id: str, expires_at: str, request_id: RequestId = None
    ) -> None:
        runtime = runtime_of(context)
        tenant = uuid.UUID(business_id)
        async with runtime.db.transaction(tenant_id=tenant) as session:
            lapsed = await holds.expire_hold(
                session,
                tenant,
                uuid.UUID(booking_id),
                now=runtime.clock.now(),
                scheduled_for=datetime.fromisoformat(expires_at),
            )
        if lapsed:  # (committed)
            metrics.HOLDS_LAPSED.labels("expiry_job").inc()
            log.info("hold_lapsed", business_id=business_id, booking_id=booking_id)

    @app.task(name=seats.PROMOTE_WAITLIST, pass_context=True, retry=RETRY)
    async def promote_waitlist(
        context: JobContext, business_id: str, session_id: str, request_id: RequestId = None
    ) -> None:
        runtime = runtime_of(context)
        tenant = uuid.UUID(business_id)
        async with runtime.db.transaction(tenant_id=tenant) as session:
            ctx = await system_context(session, tenant)
            if ctx is not None:
                promoted = await enrolment.promote(
                    session, ctx, uuid.UUID(session_id), now=runtime.clock.now()
                )
                if promoted:
                    metrics.PROMOTIONS.inc(len(promoted))
                    log.info("waitlist_promoted", session_id=session_id, bookings=[str(b) for b in promoted])

    @app.task(name=webhooks.APPLY_WEBHOOK, pass_context=True, retry=RETRY)
    async def apply_webhook(context: JobContext, delivery_id: int, request_id: RequestId = None) -> None:
        runtime = runtime_of(context)

        async def lookup(order_id: str) -> OrderLookup:
            # Only a refund we did not ask for needs it.
            return await runtime.kashier().lookup_order(order_id)

        applied = await settlement.apply(runtime.db, delivery_id, now=runtime.clock.now(), lookup=lookup)
        if applied is not None:  # (committed: a rolled-back application is not counted)
            metrics.WEBHOOKS_APPLIED.labels(applied.outcome).inc()
            log.info("kashier_webhook_applied", delivery_id=delivery_id, outcome=applied.outcome)

    @app.task(name=outbox.DELIVER, pass_context=True, retry=MESSAGE_RETRY)
    async def deliver_message(
        context: JobContext, message_id: str, business_id: str | None = None, request_id: RequestId = None
    ) -> None:
        runtime = runtime_of(context)
        tenant = uuid.UUID(business_id) if business_id else None
        outcome = await delivery.deliver(
            runtime.db,
            runtime.senders(),
            uuid.UUID(message_id),
            tenant,
            now=runtime.clock.now(),
            expand=runtime.expand,
        )
        metrics.MESSAGES.labels(outcome).inc()
        log.info("message_delivered", message_id=message_id, outcome=outcome)

    @app.task(name=integration_events.DELIVER, pass_context=True, retry=RETRY)
    async def deliver_webhook(
        context: JobContext, business_id: str, message_id: str, request_id: RequestId = None
    ) -> None:
        """One attempt at a webhook message (its own schedule, not this job's retries,
        decides the next: a failed attempt queues the next job at its time)."""
        runtime = runtime_of(context)
        outcome = await webhook_delivery.deliver(
            runtime.db,
            runtime.webhooks(),
            uuid.UUID(business_id),
            uuid.UUID(message_id),
            now=runtime.clock.now(),
            policy=runtime.webhook_policy(),
        )
        metrics.WEBHOOKS_SENT.labels(outcome).inc()
        log.info("webhook_delivery", message_id=message_id, outcome=outcome)

    @app.periodic(cron="* * * * *", periodic_id="every-minute")
    @app.task(name=REQUEUE_WEBHOOKS, pass_context=True, queueing_lock=REQUEUE_WEBHOOKS)
    async def requeue_webhooks(context: JobContext, timestamp: int) -> None:
        """Webhook messages due with no job (their worker died, or their job came early)
        get one."""
        runtime = runtime_of(context)
        requeued = 0
        for tenant in await _business_ids(context):
            async with runtime.db.transaction(tenant_id=tenant) as session:
                requeued += await webhook_delivery.requeue_due(session, tenant, now=runtime.clock.now())
        if requeued:
            log.info("webhooks_requeued", messages=requeued)

    @app.task(name=messages.SEND_REMINDER, pass_context=True, retry=RETRY)
    async def send_reminder(
        context: JobContext,
        business_id: str,
        booking_id: str,
        minutes_before: int,
        starts_at: str,
        request_id: RequestId = None,
    ) -> None:
        runtime = runtime_of(context)
        tenant = uuid.UUID(business_id)
        async with runtime.db.transaction(tenant_id=tenant) as session:
            recorded = await messages.remind(
                session,
                tenant,
                uuid.UUID(booking_id),
                minutes_before=minutes_before,
                starts_at=datetime.fromisoformat(starts_at),
                now=runtime.clock.now(),
            )
        log.info("reminder", booking_id=booking_id, minutes_before=minutes_before, recorded=recorded)

    @app.task(name=messages.WARN_HOLD, pass_context=True, retry=RETRY)
    async def warn_hold(
        context: JobContext, business_id: str, booking_id: str, expires_at: str, request_id: RequestId = None
    ) -> None:
        runtime = runtime_of(context)
        tenant = uuid.UUID(business_id)
        async with runtime.db.transaction(tenant_id=tenant) as session:
            recorded = await messages.warn_hold(
                session,
                tenant,
                uuid.UUID(booking_id),
                expires_at=datetime.fromisoformat(expires_at),
                now=runtime.clock.now(),
            )
        log.info("hold_warning", booking_id=booking_id, recorded=recorded)

    @app.periodic(cron="*/5 * * * *", periodic_id="every-five-minutes")
    @app.task(name=REQUEUE_MESSAGES, pass_context=True, queueing_lock=REQUEUE_MESSAGES)
    async def requeue_messages(context: JobContext, timestamp: int) -> None:
        """Pending messages whose job is gone (a long outage outlasted its retries) get a
        new one."""
        runtime = runtime_of(context)
        requeued = 0
        for tenant in [None, *await _business_ids(context)]:  # the platform's, then each business's
            async with runtime.db.transaction(tenant_id=tenant) as session:
                requeued += await delivery.requeue_orphaned(session, now=runtime.clock.now())
        if requeued:
            log.warning("messages_requeued", messages=requeued)

    @app.task(name=refunds.SEND_REFUND, pass_context=True, retry=RETRY, queue=GATEWAY_QUEUE)
    async def send_refund(
        context: JobContext, business_id: str, intent_id: str, request_id: RequestId = None
    ) -> None:
        runtime = runtime_of(context)
        outcome = await refunds.send(
            runtime.db, runtime.kashier(), uuid.UUID(business_id), uuid.UUID(intent_id)
        )
        metrics.REFUND_ANSWERS.labels(outcome).inc()
        log.info("refund_sent", intent_id=intent_id, outcome=outcome)

    @app.periodic(cron="* * * * *", periodic_id="every-minute")
    @app.task(name=SWEEP_LAPSED_HOLDS, pass_context=True, queueing_lock=SWEEP_LAPSED_HOLDS)
    async def sweep_lapsed_holds(context: JobContext, timestamp: int) -> None:
        """The safety net behind each hold's own expiry job (one per business)."""
        runtime = runtime_of(context)
        for tenant in await _business_ids(context):
            async with runtime.db.transaction(tenant_id=tenant) as session:
                swept = await holds.sweep_lapsed_holds(session, tenant, now=runtime.clock.now())
            metrics.HOLDS_LAPSED.labels("sweep").inc(swept)

    @app.periodic(cron="* * * * *", periodic_id="every-minute")
    @app.task(name=RETRY_STALLED, pass_context=True, queueing_lock=RETRY_STALLED)
    async def retry_stalled(context: JobContext, timestamp: int) -> None:
        """Jobs whose worker died mid-job are found by its stale heartbeat and run again."""
        await retry_stalled_jobs(app, runtime_of(context).settings.worker_stalled_seconds)

    @app.periodic(cron="*/5 * * * *", periodic_id="every-five-minutes")
    @app.task(name=SWEEP_STUCK_PAYMENTS, pass_context=True, queueing_lock=SWEEP_STUCK_PAYMENTS)
    async def sweep_stuck_payments(context: JobContext, timestamp: int) -> None:
        """Deliveries and refund intents whose job is gone (out of retries, or died) get a
        new one; the jobs re-read state, so requeueing is harmless."""
        runtime = runtime_of(context)
        async with runtime.db.transaction() as session:
            deliveries = await sweeps.requeue_deliveries(session)
        intents = 0
        for tenant in await _business_ids(context):
            async with runtime.db.transaction(tenant_id=tenant) as session:
                intents += await sweeps.requeue_refunds(session, tenant)
        if deliveries or intents:
            log.warning("payments_requeued", deliveries=deliveries, refund_intents=intents)

    @app.periodic(cron="17 3 * * *", periodic_id="daily")
    @app.task(name=EXTEND_SERIES, pass_context=True, queueing_lock=EXTEND_SERIES)
    async def extend_series(context: JobContext, timestamp: int) -> None:
        """Open-ended class series get their sessions up to the booking horizon."""
        runtime = runtime_of(context)
        for tenant in await _business_ids(context):
            async with runtime.db.transaction(tenant_id=tenant) as session:
                ctx = await system_context(session, tenant)
                if ctx is not None:
                    await series.extend_series(session, ctx, now=runtime.clock.now())

    @app.periodic(cron="30 1 * * *", periodic_id="nightly")
    @app.task(name=RECONCILE, pass_context=True, queueing_lock=RECONCILE, retry=RETRY)
    async def reconcile_yesterday(context: JobContext, timestamp: int) -> None:
        """Each business's yesterday (in its own zone) against the gateway, as one job per
        business: a business whose reconciliation fails is retried alone."""
        runtime = runtime_of(context)
        if not runtime.settings.reconcile_nightly:
            return
        async with runtime.db.transaction() as session:
            tenants = await business_ids(session)
            await reconciliation.schedule(session, tenants, as_of=datetime.fromtimestamp(timestamp, UTC))

    @app.task(name=reconciliation.RECONCILE_BUSINESS, pass_context=True, retry=RETRY, queue=GATEWAY_QUEUE)
    async def reconcile_business(
        context: JobContext, business_id: str, as_of: str, request_id: RequestId = None
    ) -> None:
        runtime = runtime_of(context)
        tenant = uuid.UUID(business_id)
        result = await reconciliation.reconcile(
            runtime.db,
            runtime.kashier(),
            tenant,
            None,
            now=runtime.clock.now(),
            as_of=datetime.fromisoformat(as_of),
            lookback_days=runtime.settings.reconcile_lookback_days,
        )
        if result is not None and result.new_mismatches:
            for kind in result.new_kinds:
                metrics.MISMATCHES.labels(kind.value).inc()
            log.warning("reconciliation_mismatches", business_id=business_id, new=result.new_mismatches)
        if result is not None and result.lookups_failed:
            # What was found is stored; the retry runs the day again and looks those up.
            raise LookupsFailed(f"{result.lookups_failed} order lookups failed for business {business_id}")

    @app.periodic(cron="43 3 * * *", periodic_id="daily")
    @app.task(name=PRUNE_ACCOUNTS, pass_context=True, queueing_lock=PRUNE_ACCOUNTS)
    async def prune_accounts(context: JobContext, timestamp: int) -> None:
        runtime = runtime_of(context)
        async with runtime.db.transaction() as session:
            throttles, tokens = await housekeeping.prune(session, now=runtime.clock.now())
        log.info("accounts_pruned", login_throttles=throttles, refresh_tokens=tokens)
