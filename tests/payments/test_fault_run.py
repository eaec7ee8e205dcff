"""A seeded, randomized fault run of the payment flows (issue 9, DESIGN.md invariant 4):
money moves exactly once, whatever crashes, outages and the real Kashier do meanwhile.

Over the live stack (`booklnk serve`, two real `booklnk worker` processes, a Kashier
simulator whose webhook retries outlast an outage, a PostgreSQL of this module's own), a
consultancy's customers pay about two dozen orders (by card; a few by Fawry, pending then
paid) and the owner and Kashier's dashboard refund some of them, in part or in full,
while the simulator duplicates, holds back (reorders), delays and drops webhooks, answers
lookups slowly, answers 502 to lookups and refunds, holds refund answers past the
client's timeout or leaves refunds pending; meanwhile a random worker is SIGKILLed a few
times (a fresh one started after each: two run at the end) and the database is stopped
for a few seconds once. Once everything is quiet, the day is reconciled (healing what was
lost), held-back webhooks are let go (late duplicates), and the day is reconciled again.

Then an audit against the simulator's own truth (its order lookup): per order, the
ledger's captures and refunds equal the gateway's; every refund made at the gateway is
either one the test made in the dashboard or claimed by exactly one settled intent of
ours (none sent twice); each booking stands exactly when money is kept for it; no job is
left `doing` or failed, no delivery unapplied or flagged, no mismatch left open.

Every choice comes from one seed, printed in each message; rerun one with
BOOKLNK_FAULT_SEED=<seed>. (Processes race, so a rerun replays the plan, not the
interleaving.)"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import httpx
from flow_support import CAIRO, CARD, held_booking, open_consultancy, pay, reconcile_cli, start_checkout
from outage_support import Restartable, scalar, simulator_config
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.payments.kashier.client import KashierClient, OrderFound
from race_support import LiveServer, server_env, stop_server
from support import Account

SEED = int(os.environ.get("BOOKLNK_FAULT_SEED", "20261209"))
ORDERS = 28
DEPOSIT = 15_001  # the consultancy's 50% of 30,001
# Heartbeats every second; a worker silent for four is dead and its jobs run again. Kashier
# calls give up after three seconds, so a refund answer held for longer is as good as lost.
WORKER_ENV = {
    "BOOKLNK_WORKER_HEARTBEAT_SECONDS": "1",
    "BOOKLNK_WORKER_STALLED_SECONDS": "4",
    "BOOKLNK_KASHIER_TIMEOUT_SECONDS": "3",
}
STALLED_SECONDS = 4.0
ANSWER_LOST_SECONDS = 4.5  # a refund answer held past the workers' client timeout
PLAY_SECONDS = 30.0  # orders start within this window; the faults fall within it too
SETTLE_SECONDS = 120.0
STEP_SECONDS = 90.0  # an order waits this long at most for its booking to be confirmed


def _tag() -> str:
    return f"[seed {SEED}; rerun with BOOKLNK_FAULT_SEED={SEED}]"


# --- the plan: every random choice, drawn from the seed before anything runs ---------------


@dataclass
class Step:
    """One refund of an order: by its owner through the API, or in Kashier's dashboard."""

    kind: Literal["owner", "dashboard"]
    amount: int
    faults: dict[str, Any]  # the order's faults while it happens (webhooks and gateway)
    pause: float  # seconds before it
    settle_after: float = 0.0  # a refund left pending at the gateway settles this much later


@dataclass
class Story:
    number: int
    method: Literal["card", "fawry"]
    start_after: float
    pay_faults: dict[str, Any]
    fawry_after: float  # Fawry: seconds between the reference and the cash
    steps: list[Step]
    # What happened, filled in as it runs.
    order_id: str = ""
    booking_id: str = ""
    checkout_url: str = ""
    dashboard: dict[str, int] = field(default_factory=dict)  # gateway transaction id -> amount
    intents: dict[str, int] = field(default_factory=dict)  # the owner's refund intents -> amount
    log: list[str] = field(default_factory=list)

    def plan(self) -> str:
        steps = ", ".join(f"{s.kind} refund {s.amount} {s.faults or ''}".strip() for s in self.steps)
        return f"{self.method} paid with faults {self.pay_faults or 'none'}; refunds: {steps or 'none'}"

    def describe(self) -> str:
        return f"order #{self.number} {self.order_id} ({self.plan()}); what happened: {'; '.join(self.log)}"


@dataclass(frozen=True)
class Chaos:
    kills: list[tuple[float, int]]  # (seconds in, which running worker)
    database_stop_at: float
    database_down_for: float


def _webhook_faults(rng: random.Random) -> dict[str, Any]:
    kind = rng.choices(["none", "duplicates", "delay", "hold", "drop"], weights=[30, 25, 15, 15, 15])[0]
    if kind == "duplicates":
        return {"duplicates": rng.randint(1, 3)}
    if kind == "delay":
        return {"delay_seconds": round(rng.uniform(0.5, 3.0), 1)}
    if kind == "hold":
        return {"hold": True}
    if kind == "drop":
        return {"drop": True}
    return {}


def _gateway_faults(rng: random.Random, owner: bool) -> dict[str, Any]:
    faults: dict[str, Any] = {}
    if rng.random() < 0.3:
        faults["lookup_delay_seconds"] = rng.choice([1.0, 2.0])  # slow, within the timeout
    if rng.random() < 0.3:
        faults["bad_gateway"] = rng.randint(1, 2)
    if owner:
        roll = rng.random()
        if roll < 0.25:
            faults["refund_delay_seconds"] = rng.choice([1.0, ANSWER_LOST_SECONDS])
        elif roll < 0.35:
            faults["refund_answer"] = "pending"
        else:
            faults["refund_answer"] = rng.choice(["result", "status", "refunded"])
    return faults


def _story(rng: random.Random, number: int) -> Story:
    method: Literal["card", "fawry"] = "fawry" if rng.random() < 0.12 else "card"
    pay_faults = _webhook_faults(rng)
    # The owner can refund only what the ledger holds: not while the payment's webhook is
    # held back or lost (reconciliation heals those), so then Kashier's dashboard refunds.
    owner_may = not (pay_faults.get("hold") or pay_faults.get("drop"))
    steps: list[Step] = []
    left, used = DEPOSIT, set()
    for _ in range(rng.choices([0, 1, 2, 3], weights=[25, 35, 28, 12])[0]):
        kind: Literal["owner", "dashboard"] = "owner" if owner_may and rng.random() < 0.65 else "dashboard"
        # Now and then everything that is left, else a part.
        amount = left if rng.random() < 0.3 else rng.randrange(500, min(6_000, left))
        if amount in used:  # distinct amounts: Kashier's refunds have no key but theirs
            continue
        used.add(amount)
        faults = {**_webhook_faults(rng), **_gateway_faults(rng, kind == "owner")}
        step = Step(kind, amount, faults, pause=round(rng.uniform(0, 3), 1))
        if faults.get("refund_answer") == "pending":
            step.settle_after = round(rng.uniform(1, 4), 1)
        steps.append(step)
        left -= amount
        if left < 1_000:
            break
    return Story(
        number=number,
        method=method,
        start_after=round(rng.uniform(0, PLAY_SECONDS), 1),
        pay_faults=pay_faults,
        fawry_after=round(rng.uniform(0.5, 4), 1),
        steps=steps,
    )


def _tally(stories: list[Story]) -> str:
    """What the plan holds, for the summary: how many orders met each fault."""
    seen: Counter[str] = Counter(s.method for s in stories)
    for story in stories:
        seen.update(f"pay {name}" for name in story.pay_faults)
        for step in story.steps:
            seen[f"{step.kind} refund"] += 1
            seen.update(
                f"refund answer {value}" if name == "refund_answer" else name
                for name, value in step.faults.items()
                if (name, value) != ("refund_answer", "result")
            )
            if step.faults.get("refund_delay_seconds", 0) > float(
                WORKER_ENV["BOOKLNK_KASHIER_TIMEOUT_SECONDS"]
            ):
                seen["refund answer lost"] += 1
    return ", ".join(f"{name} {count}" for name, count in sorted(seen.items()))


def _chaos(rng: random.Random) -> Chaos:
    kills = sorted((round(rng.uniform(3, PLAY_SECONDS + 10), 1), rng.randrange(2)) for _ in range(3))
    return Chaos(kills, round(rng.uniform(8, PLAY_SECONDS), 1), round(rng.uniform(5, 10), 1))


# --- the processes -------------------------------------------------------------------------


class Workers:
    """`booklnk worker` processes, each its own process group: killed without warning (a
    worker row and heartbeat stay behind, as after a crash), or stopped at the end."""

    def __init__(self, database_url: str, env: dict[str, str], logs: Path) -> None:
        self._database_url, self._env, self._logs = database_url, env, logs
        self.running: list[LiveServer] = []
        self.started: list[LiveServer] = []
        self.killed = 0

    def start(self) -> None:
        log_path = self._logs / f"worker-{len(self.started)}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "booklnk.cli", "worker"],
                env={**server_env(self._database_url), **self._env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = LiveServer(process, "", log_path)
        self.running.append(worker)
        self.started.append(worker)

    def kill(self, pick: int) -> None:
        victim = self.running.pop(pick % len(self.running))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(victim.process.pid, signal.SIGKILL)
        victim.process.wait(timeout=10)
        self.killed += 1

    def stop_all(self) -> None:
        for worker in self.started:
            stop_server(worker)

    def tails(self) -> str:
        return "\n".join(f"--- {w.log_path.name}\n{w.log_tail(15)}" for w in self.running)


@contextlib.contextmanager
def workers(database_url: str, env: dict[str, str], logs: Path, count: int) -> Iterator[Workers]:
    pool = Workers(database_url, env, logs)
    try:
        for _ in range(count):
            pool.start()
        yield pool
    finally:
        pool.stop_all()


# --- talking to the stack, through the outage ------------------------------------------------


async def _sim_post(sim: str, path: str, body: dict[str, Any] | None = None) -> Any:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(f"{sim}{path}", json=body)
    assert response.status_code == 200, f"{_tag()} {path}: {response.status_code} {response.text}"
    return response.json()


async def _faults(sim: str, order_id: str, faults: dict[str, Any]) -> None:
    await _sim_post(sim, "/__sim/faults", {"merchantOrderId": order_id, **faults})


async def _booking_status(http: httpx.AsyncClient, base: str, owner: Account, booking_id: str) -> str | None:
    try:
        response = await http.get(f"{base}/bookings/{booking_id}", headers=owner.headers)
    except httpx.HTTPError:
        return None  # the database is away: the API answers when it is back
    return str(response.json()["status"]) if response.status_code == 200 else None


async def _until_confirmed(http: httpx.AsyncClient, base: str, owner: Account, story: Story) -> None:
    deadline = time.monotonic() + STEP_SECONDS
    while (status := await _booking_status(http, base, owner, story.booking_id)) != "confirmed":
        assert time.monotonic() < deadline, f"{_tag()} never confirmed ({status}): {story.describe()}"
        await asyncio.sleep(0.3)


async def _owner_refund(
    http: httpx.AsyncClient, base: str, owner: Account, story: Story, amount: int
) -> dict[str, Any]:
    """The owner's refund, retried with one Idempotency-Key while the API cannot answer
    (the database is away): it is recorded once."""
    headers = {**owner.headers, "Idempotency-Key": f"fault-run-{uuid.uuid4()}"}
    path = f"{base}/bookings/{story.booking_id}/refunds"
    deadline = time.monotonic() + STEP_SECONDS
    while True:
        try:
            response = await http.post(
                path, headers=headers, json={"amount_minor": amount, "reason": "fault run"}
            )
        except httpx.HTTPError as exc:
            last = f"{type(exc).__name__}"
        else:
            if response.status_code == 201:
                body: dict[str, Any] = response.json()
                return body
            last = f"{response.status_code} {response.text[:300]}"
            in_flight = response.status_code == 409 and "idempotency_key_in_flight" in response.text
            assert response.status_code >= 500 or in_flight, (
                f"{_tag()} the owner's refund of {amount} was refused: {last}; {story.describe()}"
            )
        assert time.monotonic() < deadline, f"{_tag()} refund of {amount} never taken: {last}"
        await asyncio.sleep(0.5)


async def _settle_pending(sim: str, story: Story, amount: int) -> None:
    """A refund Kashier left pending goes through (with its webhook) once it exists there."""
    deadline = time.monotonic() + STEP_SECONDS
    while True:
        settled = (await _sim_post(sim, f"/__sim/orders/{story.order_id}/refunds/settle"))["settled"]
        if settled:
            story.log.append(f"pending refund(s) {settled} settled at the gateway")
            return
        assert time.monotonic() < deadline, f"{_tag()} the pending refund of {amount} never reached Kashier"
        await asyncio.sleep(0.5)


async def _play(http: httpx.AsyncClient, sim: str, base: str, owner: Account, story: Story) -> None:
    checkout = {"order_id": story.order_id, "url": story.checkout_url}
    await asyncio.sleep(story.start_after)
    if story.pay_faults:
        await _faults(sim, story.order_id, story.pay_faults)
    if story.method == "fawry":
        await pay(sim, checkout, method="fawry")
        story.log.append("Fawry reference issued")
        await asyncio.sleep(story.fawry_after)
        await _sim_post(sim, f"/__sim/orders/{story.order_id}/fawry/paid")
        story.log.append("paid at Fawry")
    else:
        await pay(sim, checkout, **CARD)
        story.log.append("paid by card")
    confirmed = False
    for step in story.steps:
        await asyncio.sleep(step.pause)
        if step.kind == "owner" and not confirmed:
            await _until_confirmed(http, base, owner, story)
            confirmed = True
        await _faults(sim, story.order_id, step.faults)
        if step.kind == "dashboard":
            made = await _sim_post(
                sim, f"/__sim/orders/{story.order_id}/refunds", {"amountMinor": step.amount}
            )
            story.dashboard[made["transactionId"]] = step.amount
            story.log.append(f"dashboard refund {step.amount} ({made['transactionId']})")
            continue
        intent = await _owner_refund(http, base, owner, story, step.amount)
        story.intents[intent["id"]] = step.amount
        story.log.append(f"owner refund {step.amount} (intent {intent['id']})")
        if step.settle_after:
            await asyncio.sleep(step.settle_after)
            await _settle_pending(sim, story, step.amount)


async def _mayhem(chaos: Chaos, pool: Workers, database: Restartable, notes: list[str]) -> None:
    loop = asyncio.get_running_loop()
    began = loop.time()

    async def kills() -> None:
        for at, pick in chaos.kills:
            await asyncio.sleep(max(0.0, began + at - loop.time()))
            pool.kill(pick)
            notes.append(f"{loop.time() - began:.1f}s: a worker SIGKILLed")
            # Its jobs are run again by the next worker that starts after its heartbeat is
            # stale (a supervisor restarting a crashed worker): then two run again.
            await asyncio.sleep(STALLED_SECONDS + 0.5)
            pool.start()

    async def outage() -> None:
        await asyncio.sleep(chaos.database_stop_at)
        await asyncio.to_thread(database.stop)
        notes.append(f"{loop.time() - began:.1f}s: the database stopped")
        try:
            await asyncio.sleep(chaos.database_down_for)
        finally:  # (also when the run failed meanwhile: the teardown needs it)
            await asyncio.to_thread(database.start)
        notes.append(f"{loop.time() - began:.1f}s: the database started again")

    async with asyncio.TaskGroup() as group:
        group.create_task(kills())
        group.create_task(outage())


# --- waiting and auditing --------------------------------------------------------------------


async def _rows(engine: AsyncEngine, sql: str, **params: Any) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(text(sql), params)).all())


async def _settle(
    what: str, probe: Callable[[], Awaitable[str | None]], within: float = SETTLE_SECONDS
) -> None:
    """Until `probe` says nothing is left (None), else what is left."""
    deadline = time.monotonic() + within
    left: str | None = "not looked yet"
    while time.monotonic() < deadline:
        try:
            left = await probe()
        except (OSError, httpx.HTTPError, DBAPIError) as exc:
            left = f"{type(exc).__name__}: {exc}"
        if left is None:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"{_tag()} {what}: still not quiet after {within:.0f}s: {left}")


def _quiet(engine: AsyncEngine, sim: str, *, held_ok: bool) -> Callable[[], Awaitable[str | None]]:
    async def probe() -> str | None:
        async with httpx.AsyncClient(timeout=10) as client:
            outbox = (await client.get(f"{sim}/__sim/outbox")).json()
        if outbox["pending"]:
            return f"{outbox['pending']} webhooks still to deliver"
        if outbox["held"] and not held_ok:
            return f"{outbox['held']} webhooks held back"
        failed = await _rows(
            engine,
            "SELECT task_name, args::text FROM procrastinate_jobs"
            " WHERE status = 'failed' AND task_name LIKE 'payments.%'",
        )
        assert not failed, f"{_tag()} payment jobs failed for good: {failed}"
        busy = await _rows(
            engine,
            "SELECT task_name, status::text, attempts FROM procrastinate_jobs"
            " WHERE status IN ('todo', 'doing') AND task_name LIKE 'payments.%'",
        )
        if busy:
            return f"jobs not done: {busy[:5]}"
        unapplied = await scalar(engine, "SELECT count(*) FROM webhook_delivery WHERE applied_at IS NULL")
        if unapplied:
            return f"{unapplied} deliveries not applied"
        doing = await scalar(engine, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'")
        return f"{doing} jobs doing" if doing else None

    return probe


async def _reconcile(database: Restartable, env: dict[str, str]) -> str:
    day = datetime.now(CAIRO).date().isoformat()
    said = await asyncio.to_thread(reconcile_cli, database.url, env, day)
    found = re.search(r"business [0-9a-f-]{36}: ([^\r\n]*)", said)
    return found[1] if found else said[-300:]


async def _gateway_transactions(sim: str, story: Story) -> list[tuple[str, str, str, int]]:
    """(operation, status, transaction id, amount) of every transaction Kashier holds."""
    async with KashierClient(simulator_config(sim)) as kashier:
        found = await kashier.lookup_order(story.order_id)
    assert isinstance(found, OrderFound), f"{_tag()} Kashier does not know {story.describe()}"
    return [(t.operation, t.status, t.transaction_id, t.amount_minor) for t in found.transactions]


async def _audit(engine: AsyncEngine, sim: str, base: str, stories: list[Story]) -> list[str]:
    problems: list[str] = []
    business_id = base.rsplit("/", 1)[1]
    for story in stories:
        said = f"order #{story.number} {story.order_id}"
        gateway = await _gateway_transactions(sim, story)
        captured = sorted(a for op, st, _, a in gateway if op == "pay" and st == "SUCCESS")
        refunded = sorted(a for op, st, _, a in gateway if op == "refund" and st == "SUCCESS")
        made = {tx: a for op, st, tx, a in gateway if op == "refund" and st in ("SUCCESS", "PENDING")}
        ledger = await _rows(
            engine,
            "SELECT l.kind::text, l.amount_minor FROM ledger_entry l JOIN payment_attempt a"
            " ON a.business_id = l.business_id AND a.id = l.attempt_id WHERE a.order_id = :o",
            o=story.order_id,
        )
        ours = {kind: sorted(int(a) for k, a in ledger if k == kind) for kind in ("capture", "refund")}
        if ours["capture"] != captured:
            problems.append(f"{said}: ledger captures {ours['capture']}, Kashier captured {captured}")
        if ours["refund"] != refunded:
            problems.append(f"{said}: ledger refunds {ours['refund']}, Kashier refunded {refunded}")
        if not captured:
            problems.append(f"{said}: Kashier captured nothing (the test paid it)")
        # Every refund at Kashier: made in its dashboard by the test, or one intent's own.
        for tx, amount in story.dashboard.items():
            if made.pop(tx, None) != amount:
                problems.append(f"{said}: the dashboard refund {tx} of {amount} is not at Kashier")
        intents = await _rows(
            engine,
            "SELECT r.id::text, r.amount_minor, r.status::text, r.gateway_transaction_id"
            " FROM refund_intent r JOIN payment_attempt a"
            " ON a.business_id = r.business_id AND a.id = r.attempt_id WHERE a.order_id = :o",
            o=story.order_id,
        )
        claims = Counter(tx for _, _, _, tx in intents if tx)
        for intent_id, amount, status, tx in intents:
            if status != "settled":
                problems.append(f"{said}: refund intent {intent_id} of {amount} ended {status} (tx {tx})")
            if tx is not None and made.get(tx) != amount:
                problems.append(
                    f"{said}: intent {intent_id} of {amount} claims {tx}, Kashier has {made.get(tx)}"
                )
            if tx is not None and claims[tx] > 1:
                problems.append(f"{said}: Kashier refund {tx} claimed by {claims[tx]} intents")
        for tx, amount in made.items():
            if tx not in claims:
                problems.append(f"{said}: Kashier refund {tx} of {amount} belongs to no intent (sent twice?)")
        found = {intent_id: int(amount) for intent_id, amount, _, _ in intents}
        for intent_id, amount in story.intents.items():
            if found.get(intent_id) != amount:
                problems.append(
                    f"{said}: the owner's refund {intent_id} of {amount} is {found.get(intent_id)}"
                )
        # The booking stands exactly when money is kept for it.
        (status, deposit), *_ = await _rows(
            engine, "SELECT status::text, deposit_minor FROM booking WHERE id = :b", b=story.booking_id
        )
        kept = sum(captured) - sum(refunded)
        expected = "confirmed" if kept > 0 else "cancelled"
        if captured and status != expected:
            problems.append(
                f"{said}: booking {status}, Kashier kept {kept} of {sum(captured)} (deposit {deposit})"
            )
        attempt = await scalar(
            engine, "SELECT status::text FROM payment_attempt WHERE order_id = :o", o=story.order_id
        )
        if attempt != "paid":
            problems.append(f"{said}: payment attempt {attempt}")
        outcomes = await _rows(
            engine,
            "SELECT event, status, outcome FROM webhook_delivery WHERE merchant_order_id = :o"
            " AND (applied_at IS NULL OR outcome LIKE 'flagged%' OR outcome = 'unknown_order')",
            o=story.order_id,
        )
        if outcomes:
            problems.append(f"{said}: deliveries unapplied or flagged: {outcomes}")
    unpaid = await _rows(
        engine,
        "SELECT b.id::text FROM booking b WHERE b.business_id = :b AND b.status = 'confirmed'"
        " AND b.deposit_minor > 0 AND NOT EXISTS (SELECT 1 FROM ledger_entry l WHERE"
        " l.business_id = b.business_id AND l.booking_id = b.id AND l.kind = 'capture')",
        b=business_id,
    )
    if unpaid:
        problems.append(f"confirmed bookings with nothing captured: {unpaid}")
    doing = await _rows(engine, "SELECT id, task_name FROM procrastinate_jobs WHERE status = 'doing'")
    if doing:
        problems.append(f"jobs left doing: {doing}")
    failed = await _rows(
        engine, "SELECT id, task_name, args::text FROM procrastinate_jobs WHERE status = 'failed'"
    )
    if failed:
        problems.append(f"jobs failed for good: {failed}")
    open_mismatches = await _rows(
        engine,
        "SELECT order_id, kind::text, ours, gateway FROM reconciliation_mismatch WHERE resolved_at IS NULL",
    )
    for order_id, kind, ours_said, gateway_said in open_mismatches:
        who = next((s.describe() for s in stories if s.order_id == order_id), order_id)
        problems.append(f"open mismatch {kind} (ours: {ours_said}; Kashier: {gateway_said}) of {who}")
    return problems


async def test_payments_survive_a_seeded_run_of_faults_crashes_and_an_outage(
    restartable_database: Restartable,
    outage_http: httpx.AsyncClient,
    outage_engine: AsyncEngine,
    outage_env: dict[str, str],
    patient_simulator: str,
    tmp_path: Path,
) -> None:
    began = time.monotonic()
    http, engine, sim, database = outage_http, outage_engine, patient_simulator, restartable_database
    rng = random.Random(SEED)
    stories = [_story(rng, number) for number in range(ORDERS)]
    chaos = _chaos(rng)
    base, owner, service_id = await open_consultancy(http)
    gate = asyncio.Semaphore(4)

    async def check_in(story: Story) -> None:
        """Before any fault: the customer, the held booking, the checkout (its order id)."""
        async with gate:
            customer, booking = await held_booking(http, (base, owner, service_id), story.method)
            checkout = await start_checkout(http, base, customer, booking, story.method)
        story.order_id, story.booking_id, story.checkout_url = (
            checkout["order_id"],
            booking["id"],
            checkout["url"],
        )

    async with asyncio.TaskGroup() as group:
        for story in stories:
            group.create_task(check_in(story))
    notes: list[str] = []
    with workers(database.url, {**outage_env, **WORKER_ENV}, tmp_path, 2) as pool:
        async with asyncio.TaskGroup() as group:
            group.create_task(_mayhem(chaos, pool, database, notes))
            for story in stories:
                group.create_task(_play(http, sim, base, owner, story))
        played = time.monotonic()
        await _settle("after the play", _quiet(engine, sim, held_ok=True))
        async with httpx.AsyncClient(timeout=10) as client:
            assert (await client.delete(f"{sim}/__sim/faults")).status_code == 200  # Kashier is well
        first = await _reconcile(database, outage_env)
        await _settle("after the first reconciliation", _quiet(engine, sim, held_ok=True))
        released = (await _sim_post(sim, "/__sim/outbox/release"))["released"]  # late, now duplicates
        await _settle("after the held webhooks came", _quiet(engine, sim, held_ok=False))
        second = await _reconcile(database, outage_env)
        await _settle("after the second reconciliation", _quiet(engine, sim, held_ok=False))
        alive = [w for w in pool.running if w.process.poll() is None]
        assert len(alive) == 2, f"{_tag()} {len(alive)} workers alive at the end:\n{pool.tails()}"
        problems = await _audit(engine, sim, base, stories)
        killed = pool.killed
    summary = (
        f"{_tag()} {ORDERS} orders, {killed} workers killed, {'; '.join(notes)}; played in"
        f" {played - began:.0f}s, done in {time.monotonic() - began:.0f}s; reconciliation: {first} |"
        f" then: {second}; {released} held webhooks released late; plan: {_tally(stories)}"
    )
    print(summary)
    assert killed >= 2, summary
    assert any("stopped" in n for n in notes), summary
    details = "\n".join(f"  {s.describe()}" for s in stories if any(s.order_id in p for p in problems))
    assert not problems, (
        f"{summary}\n{len(problems)} problems:\n" + "\n".join(problems) + f"\nstories:\n{details}"
    )
