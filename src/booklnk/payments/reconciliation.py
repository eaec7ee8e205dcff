"""Nightly reconciliation: every payment attempt that a business's local day may have
moved money for, looked up at the gateway and compared with what we recorded.

A day's run covers the attempts created in it or in the days before it, back to a
lookback (7 days by default: money can move days after a checkout, a refund made in
Kashier's dashboard leaves no trace here until looked up), any older attempt that had
activity that day (money in the ledger, a refund asked for or answered, a webhook), and
any with an open item: a refund not yet settled, a lookup that failed in an earlier run
(looked up now, that failure is resolved). Refunds a person must look at are flagged too:
one Kashier refused that day, one still unsettled a day after it was accepted (or sent).

Kashier has no listing API, so the walk is over our own attempts. Each difference is
stored with its kind. A transaction the gateway has and we never applied (a lost
webhook: a capture, a refund, or the failure of an attempt still open here) is healed by
storing it as if its webhook had come, so the same code applies it (and a late real
webhook is then a duplicate). A lookup that fails (a timeout, Kashier down) is stored
as a `lookup_failed` mismatch and the walk goes on.

A run is one row per business and day, and running the day again re-checks every order:
it adds only what was not found before (so a rerun of a clean day adds nothing), and it
resolves what an order's successful lookup no longer shows, a failed lookup included.
So a rerun is how a failed lookup is retried, and the run's open mismatches are what is
still wrong; the rows stay, with when they were resolved.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.db.database import Database
from booklnk.db.jobs import GATEWAY_QUEUE, Job, enqueue
from booklnk.db.pagination import fetch_page
from booklnk.kernel.errors import NotFound
from booklnk.payments import webhooks
from booklnk.payments.kashier.client import KashierClient, KashierError, OrderFound, OrderLookup
from booklnk.payments.models import (
    AttemptStatus,
    LedgerEntry,
    LedgerKind,
    MismatchKind,
    PaymentAttempt,
    ReconciliationMismatch,
    ReconciliationRun,
    RefundIntent,
    RefundStatus,
    WebhookDelivery,
)
from booklnk.tenancy import repository as tenancy

Key = tuple[str, str, str, int]  # event, transaction id, status, amount
RECONCILE_BUSINESS = "payments.reconcile_business"
DEFAULT_LOOKBACK_DAYS = 7
# A refund Kashier accepted settles within minutes (its webhook); one still open after a
# day is stuck at the gateway or lost here, and the customer is waiting.
REFUND_PENDING_LONG_AFTER = timedelta(days=1)
_UNSETTLED = (AttemptStatus.STARTED, AttemptStatus.PENDING)
_OPEN_REFUNDS = (RefundStatus.REQUESTED, RefundStatus.SENDING, RefundStatus.ACCEPTED)


@dataclass(frozen=True, slots=True)
class Local:
    """What we hold for one order."""

    order_id: str
    status: AttemptStatus
    amount_minor: int
    currency: str
    captured: int
    refunded: int
    known: frozenset[Key]  # the order's deliveries that were applied (stored is not enough)
    refused: tuple[int, ...] = ()  # refunds Kashier refused that day (amounts)
    long_pending: tuple[int, ...] = ()  # refunds open for more than a day (amounts)


@dataclass(frozen=True, slots=True)
class Finding:
    kind: MismatchKind
    ours: str
    gateway: str
    heal: tuple[webhooks.Event, ...] = field(default=())


def compare(local: Local, remote: OrderLookup) -> list[Finding]:
    """Pure: the differences between our record of an order and the gateway's."""
    if not isinstance(remote, OrderFound):
        if local.captured > 0:
            return [
                Finding(MismatchKind.PAID_HERE_NOT_AT_GATEWAY, f"captured {local.captured}", "unknown order")
            ]
        return []
    findings: list[Finding] = []
    if remote.currency != local.currency:
        findings.append(Finding(MismatchKind.CURRENCY_DIFFERS, local.currency, remote.currency))
    missing = [
        webhooks.Event(
            tx.operation, tx.transaction_id, tx.status, tx.amount_minor, tx.currency, local.order_id
        )
        for tx in remote.transactions
        if tx.status in ("SUCCESS", "FAILURE")
        and (tx.operation, tx.transaction_id, tx.status, tx.amount_minor) not in local.known
    ]
    lost_pays = tuple(e for e in missing if e.event == "pay" and e.status == "SUCCESS")
    lost_refunds = tuple(e for e in missing if e.event == "refund" and e.status == "SUCCESS")
    lost_failures = tuple(e for e in missing if e.event == "pay" and e.status == "FAILURE")
    if lost_pays:
        findings.append(
            Finding(
                MismatchKind.CAPTURED_NOT_RECORDED,
                f"captured {local.captured}",
                f"captured {remote.captured_minor}",
                lost_pays,
            )
        )
    elif remote.captured_minor != local.captured:
        findings.append(
            Finding(
                MismatchKind.AMOUNT_DIFFERS, f"captured {local.captured}", f"captured {remote.captured_minor}"
            )
        )
    if lost_refunds or remote.refunded_minor != local.refunded:
        findings.append(
            Finding(
                MismatchKind.REFUNDS_DIFFER,
                f"refunded {local.refunded}",
                f"refunded {remote.refunded_minor}",
                lost_refunds,
            )
        )
    findings.extend(_refunds_to_look_at(local, lost_refunds))
    gateway_paid = remote.captured_minor > 0
    if (local.status is AttemptStatus.PAID) != gateway_paid and not lost_pays:
        findings.append(Finding(MismatchKind.STATUS_DIFFERS, local.status.value, remote.status))
    elif lost_failures and not gateway_paid and local.status in _UNSETTLED:
        # A lost FAILURE (a declined card, a lapsed Fawry reference): healed too, so the
        # attempt fails here as it did there; after a capture it would change nothing.
        findings.append(
            Finding(MismatchKind.STATUS_DIFFERS, local.status.value, remote.status, lost_failures)
        )
    return findings


def _refunds_to_look_at(local: Local, lost: tuple[webhooks.Event, ...]) -> list[Finding]:
    findings = []
    if local.refused:
        refused = ", ".join(str(a) for a in local.refused)
        findings.append(
            Finding(MismatchKind.REFUND_REFUSED, f"refund of {refused} refused", "nothing refunded")
        )
    if local.long_pending and not lost:  # a lost refund webhook is healed instead
        pending = ", ".join(str(a) for a in local.long_pending)
        findings.append(
            Finding(
                MismatchKind.REFUND_PENDING_LONG,
                f"refund of {pending} open for over a day",
                f"refunded {local.refunded}",
            )
        )
    return findings


@dataclass(frozen=True, slots=True)
class Checked:
    """One order's outcome: what differs, and whether the gateway answered at all."""

    order_id: str
    findings: tuple[Finding, ...]
    looked_up: bool


async def check(client: KashierClient, order: Local) -> Checked:
    try:
        remote = await client.lookup_order(order.order_id)
    except KashierError as exc:
        # Nothing could be compared; stored, so a person (or a rerun) sees the gap.
        failed = Finding(MismatchKind.LOOKUP_FAILED, order.status.value, f"{type(exc).__name__}: {exc}")
        return Checked(order.order_id, (failed,), looked_up=False)
    return Checked(order.order_id, tuple(compare(order, remote)), looked_up=True)


@dataclass(frozen=True, slots=True)
class RunResult:
    run_id: uuid.UUID
    orders_checked: int
    new_mismatches: int
    healed: int
    lookups_failed: int = 0
    new_kinds: tuple[MismatchKind, ...] = ()  # of the new mismatches, one entry each


def day_window(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), zone).astimezone(UTC)
    return start, datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)


async def reconcile(
    db: Database,
    client: KashierClient,
    business_id: uuid.UUID,
    day: date | None,
    *,
    now: datetime,
    as_of: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
) -> RunResult | None:
    """Reconcile one business's local `day` (None: the day before `as_of`, else before
    `now`, in its zone), or None if the business is gone. Lookups run outside any
    transaction, one failing never stops the others; their findings are written in one
    transaction at the end. `progress(done, total)` is called after each order."""
    async with db.transaction(tenant_id=business_id) as session:
        business = await tenancy.get_business(session, business_id)
        if business is None:
            return None
        zone = ZoneInfo(business.time_zone)
        day = day or (as_of or now).astimezone(zone).date() - timedelta(days=1)
        start, end = day_window(day, zone)
        since = day_window(day - timedelta(days=lookback_days - 1), zone)[0]
        orders = await _local_orders(session, business_id, since, start, end)
    checked: list[Checked] = []
    for done, order in enumerate(orders, 1):
        checked.append(await check(client, order))
        if progress is not None:
            progress(done, len(orders))
    async with db.transaction(tenant_id=business_id) as session:
        return await _record(session, business_id, day, now, checked)


async def schedule(session: AsyncSession, business_ids: Sequence[uuid.UUID], *, as_of: datetime) -> None:
    """One reconciliation job per business (each its own day before `as_of`): a business
    whose job fails is retried alone."""
    for business_id in business_ids:
        args = {"business_id": str(business_id), "as_of": as_of.isoformat()}
        job = Job(RECONCILE_BUSINESS, args, lock=f"reconcile:{business_id}", queue=GATEWAY_QUEUE)
        await enqueue(session, job)


async def _local_orders(
    session: AsyncSession, business_id: uuid.UUID, since: datetime, start: datetime, end: datetime
) -> list[Local]:
    """The attempts the day [start, end) may have moved money for: created since `since`
    (the lookback), or with activity that day."""
    attempt = PaymentAttempt
    moved = select(LedgerEntry.id).where(
        LedgerEntry.business_id == attempt.business_id,
        LedgerEntry.attempt_id == attempt.id,
        LedgerEntry.created_at >= start,
        LedgerEntry.created_at < end,
    )
    refunding = select(RefundIntent.id).where(
        RefundIntent.business_id == attempt.business_id,
        RefundIntent.attempt_id == attempt.id,
        RefundIntent.updated_at >= start,
        RefundIntent.updated_at < end,
    )
    reported = select(WebhookDelivery.id).where(
        WebhookDelivery.merchant_order_id == attempt.order_id,
        WebhookDelivery.received_at >= start,
        WebhookDelivery.received_at < end,
    )
    open_refund = select(RefundIntent.id).where(
        RefundIntent.business_id == attempt.business_id,
        RefundIntent.attempt_id == attempt.id,
        RefundIntent.status.in_(_OPEN_REFUNDS),
    )
    failed_lookup = select(ReconciliationMismatch.id).where(
        ReconciliationMismatch.business_id == attempt.business_id,
        ReconciliationMismatch.order_id == attempt.order_id,
        ReconciliationMismatch.kind == MismatchKind.LOOKUP_FAILED,
        ReconciliationMismatch.resolved_at.is_(None),
    )
    result = await session.execute(
        select(attempt)
        .where(
            attempt.business_id == business_id,
            attempt.created_at < end,
            or_(
                attempt.created_at >= since,
                moved.exists(),
                refunding.exists(),
                reported.exists(),
                open_refund.exists(),
                failed_lookup.exists(),
            ),
        )
        .order_by(attempt.created_at)
    )
    attempts = list(result.scalars())
    ids = [a.id for a in attempts]
    sums: dict[tuple[uuid.UUID, LedgerKind], int] = {}
    for attempt_id, kind, total in await session.execute(
        select(LedgerEntry.attempt_id, LedgerEntry.kind, func.sum(LedgerEntry.amount_minor))
        .where(LedgerEntry.business_id == business_id, LedgerEntry.attempt_id.in_(ids))
        .group_by(LedgerEntry.attempt_id, LedgerEntry.kind)
    ):
        if attempt_id is not None:  # (the filter keeps desk money, which has no attempt, out)
            sums[(attempt_id, kind)] = int(total)
    known: dict[str, set[Key]] = {}
    for row in await session.execute(
        select(
            WebhookDelivery.merchant_order_id,
            WebhookDelivery.event,
            WebhookDelivery.transaction_id,
            WebhookDelivery.status,
            WebhookDelivery.amount_minor,
        ).where(
            WebhookDelivery.merchant_order_id.in_([a.order_id for a in attempts]),
            # A delivery whose application never ran recorded nothing: it is healed (queued
            # again) like a lost webhook, not counted as known.
            WebhookDelivery.applied_at.is_not(None),
        )
    ):
        known.setdefault(row[0], set()).add((row[1], row[2], row[3], row[4]))
    refused: dict[uuid.UUID, list[int]] = {}
    long_pending: dict[uuid.UUID, list[int]] = {}
    intent = RefundIntent
    for attempt_id, status, amount, updated_at in await session.execute(
        select(intent.attempt_id, intent.status, intent.amount_minor, intent.updated_at)
        .where(RefundIntent.business_id == business_id, RefundIntent.attempt_id.in_(ids))
        .order_by(RefundIntent.created_at)
    ):
        if status is RefundStatus.REFUSED and start <= updated_at < end:
            refused.setdefault(attempt_id, []).append(amount)
        elif status in _OPEN_REFUNDS and updated_at < end - REFUND_PENDING_LONG_AFTER:
            long_pending.setdefault(attempt_id, []).append(amount)
    return [
        Local(
            order_id=a.order_id,
            status=a.status,
            amount_minor=a.amount_minor,
            currency=a.currency,
            captured=sums.get((a.id, LedgerKind.CAPTURE), 0),
            refunded=sums.get((a.id, LedgerKind.REFUND), 0),
            known=frozenset(known.get(a.order_id, set())),
            refused=tuple(refused.get(a.id, ())),
            long_pending=tuple(long_pending.get(a.id, ())),
        )
        for a in attempts
    ]


async def _record(
    session: AsyncSession, business_id: uuid.UUID, day: date, now: datetime, checked: Sequence[Checked]
) -> RunResult:
    run_id = await session.scalar(
        insert(ReconciliationRun)
        .values(business_id=business_id, id=uuid.uuid4(), day=day, started_at=now)
        .on_conflict_do_update(
            index_elements=["business_id", "day"], set_={"started_at": now, "finished_at": None}
        )
        .returning(ReconciliationRun.id)
    )
    assert run_id is not None
    new: list[MismatchKind] = []
    healed = 0
    for order in checked:
        for finding in order.findings:
            for event in finding.heal:
                healed += await webhooks.heal(session, event)
            if await _store_mismatch(session, business_id, run_id, order.order_id, finding):
                new.append(finding.kind)
        if order.looked_up:
            await _resolve(session, business_id, run_id, order, now)
    still_open = await session.scalar(
        select(func.count()).where(
            ReconciliationMismatch.business_id == business_id,
            ReconciliationMismatch.run_id == run_id,
            ReconciliationMismatch.resolved_at.is_(None),
        )
    )
    run = await session.get(ReconciliationRun, (business_id, run_id), populate_existing=True)
    assert run is not None
    run.orders_checked, run.mismatches, run.finished_at = len(checked), int(still_open or 0), now
    failed = sum(not order.looked_up for order in checked)
    return RunResult(run_id, len(checked), len(new), healed, failed, tuple(new))


async def _store_mismatch(
    session: AsyncSession, business_id: uuid.UUID, run_id: uuid.UUID, order_id: str, finding: Finding
) -> bool:
    """Add a finding to the run, or reopen it if a rerun had resolved it; True if either."""
    stmt = insert(ReconciliationMismatch).values(
        business_id=business_id,
        id=uuid.uuid4(),
        run_id=run_id,
        order_id=order_id,
        kind=finding.kind,
        ours=finding.ours,
        gateway=finding.gateway,
        healed=bool(finding.heal),
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["business_id", "run_id", "order_id", "kind"],
        set_={"resolved_at": None, "ours": stmt.excluded.ours, "gateway": stmt.excluded.gateway},
        where=ReconciliationMismatch.resolved_at.is_not(None),
    )
    return await session.scalar(stmt.returning(ReconciliationMismatch.id)) is not None


async def _resolve(
    session: AsyncSession, business_id: uuid.UUID, run_id: uuid.UUID, order: Checked, now: datetime
) -> None:
    """The order was looked up: what was found before and not now is resolved, and so is
    a failed lookup of any earlier run (this one answered)."""
    await session.execute(
        update(ReconciliationMismatch)
        .where(
            ReconciliationMismatch.business_id == business_id,
            ReconciliationMismatch.run_id != run_id,
            ReconciliationMismatch.order_id == order.order_id,
            ReconciliationMismatch.kind == MismatchKind.LOOKUP_FAILED,
            ReconciliationMismatch.resolved_at.is_(None),
        )
        .values(resolved_at=now)
    )
    await session.execute(
        update(ReconciliationMismatch)
        .where(
            ReconciliationMismatch.business_id == business_id,
            ReconciliationMismatch.run_id == run_id,
            ReconciliationMismatch.order_id == order.order_id,
            ReconciliationMismatch.resolved_at.is_(None),
            ReconciliationMismatch.kind.not_in([f.kind for f in order.findings]),
        )
        .values(resolved_at=now)
    )


async def runs(
    session: AsyncSession, business_id: uuid.UUID, *, cursor: str | None, limit: int
) -> tuple[list[ReconciliationRun], str | None]:
    """One page of the business's runs, newest day first."""
    stmt = select(ReconciliationRun).where(ReconciliationRun.business_id == business_id)
    order = [ReconciliationRun.day, ReconciliationRun.id]
    return await fetch_page(session, stmt, order_by=order, cursor=cursor, limit=limit, descending=True)


async def mismatches(
    session: AsyncSession, business_id: uuid.UUID, run_id: uuid.UUID, *, cursor: str | None, limit: int | None
) -> tuple[list[ReconciliationMismatch], str | None]:
    """A run's mismatches in the order found: one page, or all of them when `limit` is
    None (a spreadsheet export). NotFound for another business's run."""
    if await session.get(ReconciliationRun, (business_id, run_id)) is None:
        raise NotFound("No such reconciliation run.")
    stmt = select(ReconciliationMismatch).where(
        ReconciliationMismatch.business_id == business_id, ReconciliationMismatch.run_id == run_id
    )
    # (A run's mismatches share its transaction's found_at: by order id within it.)
    order = [ReconciliationMismatch.found_at, ReconciliationMismatch.order_id, ReconciliationMismatch.id]
    if limit is None:
        return list((await session.execute(stmt.order_by(*order))).scalars()), None
    return await fetch_page(session, stmt, order_by=order, cursor=cursor, limit=limit)
