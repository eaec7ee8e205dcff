"""Webhook delivery: background asyncio tasks over httpx, with the retry schedule and the
delivery faults (duplicates, hold-back, delay, drop, wrong signature).

``pending`` counts everything still to happen (deliveries scheduled, in flight or waiting
to retry, and timers such as a late settlement), so a test can wait for the outbox to
drain. Held-back deliveries are counted apart: they wait for a later webhook or a release.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import itertools
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from booklnk.payments.kashier.signing import webhook_signature
from booklnk.payments.kashier.simulator.settings import Faults

SIGNATURE_HEADER = "x-kashier-signature"


class DeliveryState(enum.StrEnum):
    HELD = "held"
    SCHEDULED = "scheduled"
    DELIVERED = "delivered"
    DEAD = "dead"  # every attempt failed
    DROPPED = "dropped"  # fault: never sent


@dataclass(slots=True)
class Attempt:
    at: str
    status_code: int | None
    error: str | None


@dataclass(slots=True)
class Delivery:
    id: int
    merchant_order_id: str
    event: str
    status: str
    url: str
    body: bytes = field(repr=False)
    signature: str
    delay: float
    state: DeliveryState = DeliveryState.SCHEDULED
    attempts: list[Attempt] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "merchantOrderId": self.merchant_order_id,
            "event": self.event,
            "status": self.status,
            "url": self.url,
            "state": self.state.value,
            "attempts": [{"at": a.at, "statusCode": a.status_code, "error": a.error} for a in self.attempts],
        }


class Outbox:
    def __init__(
        self, http: httpx.AsyncClient, *, api_key: str, retry_delays: tuple[float, ...], timeout: float
    ) -> None:
        self._http = http
        self._api_key = api_key
        self._retry_delays = retry_delays
        self._timeout = timeout
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._timers = 0
        self.deliveries: list[Delivery] = []
        # merchantOrderId -> copies of the webhook held back (the hold fault).
        self._held: dict[str, list[Delivery]] = {}

    # --- queueing -----------------------------------------------------------------------

    def enqueue(
        self, url: str, event: str, data: Mapping[str, Any], faults: Faults, *, extra_delay: float = 0
    ) -> None:
        """Queue one webhook (and its fault-made copies) for ``data["merchantOrderId"]``."""
        order_id = str(data["merchantOrderId"])
        key = f"wrong-{self._api_key}" if faults.wrong_signature else self._api_key
        body = json.dumps({"event": event, "data": data}).encode()
        copies = [
            Delivery(
                id=next(self._ids),
                merchant_order_id=order_id,
                event=event,
                status=str(data.get("status", "")),
                url=url,
                body=body,
                signature=webhook_signature(key, data),
                delay=faults.delay_seconds + extra_delay,
            )
            for _ in range(1 + faults.duplicates)
        ]
        self.deliveries.extend(copies)
        if faults.drop:
            for copy in copies:
                copy.state = DeliveryState.DROPPED
            return
        held = self._held.pop(order_id, [])
        if faults.hold and not held:
            for copy in copies:
                copy.state = DeliveryState.HELD
            self._held[order_id] = copies
            return
        for copy in held:
            copy.state = DeliveryState.SCHEDULED
        self._spawn(self._send_then(copies, held))

    def release_held(self) -> int:
        """Send every held-back webhook now; returns how many copies were released."""
        released = [copy for copies in self._held.values() for copy in copies]
        self._held.clear()
        for copy in released:
            copy.state = DeliveryState.SCHEDULED
        if released:
            self._spawn(self._send_then(released, []))
        return len(released)

    def after(self, seconds: float, action: Callable[[], Awaitable[None]]) -> None:
        """Run ``action`` later, counted as pending until it has run (late settlements)."""
        self._timers += 1

        async def timer() -> None:
            try:
                await asyncio.sleep(seconds)
                await action()
            finally:
                self._timers -= 1

        self._spawn(timer())

    # --- reporting and lifecycle ----------------------------------------------------------

    def counts(self) -> dict[str, int]:
        by_state = {state.value: 0 for state in DeliveryState}
        for delivery in self.deliveries:
            by_state[delivery.state.value] += 1
        return {"pending": by_state[DeliveryState.SCHEDULED] + self._timers, **by_state}

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self._held.clear()
        self.deliveries.clear()
        self._timers = 0

    # --- sending --------------------------------------------------------------------------

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            await work

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_then(self, first: list[Delivery], then: list[Delivery]) -> None:
        await asyncio.gather(*(self._deliver(copy) for copy in first))
        await asyncio.gather(*(self._deliver(copy) for copy in then))

    async def _deliver(self, delivery: Delivery) -> None:
        if delivery.delay:
            await asyncio.sleep(delivery.delay)
        for retry in range(len(self._retry_delays) + 1):
            if retry:
                await asyncio.sleep(self._retry_delays[retry - 1])
            if await self._attempt(delivery):
                delivery.state = DeliveryState.DELIVERED
                return
        delivery.state = DeliveryState.DEAD

    async def _attempt(self, delivery: Delivery) -> bool:
        now = datetime.now(UTC).isoformat()
        try:
            response = await self._http.post(
                delivery.url,
                content=delivery.body,
                headers={"content-type": "application/json", SIGNATURE_HEADER: delivery.signature},
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            delivery.attempts.append(Attempt(now, None, type(exc).__name__))
            return False
        delivery.attempts.append(Attempt(now, response.status_code, None))
        return 200 <= response.status_code < 300
