"""`booklnk reconcile` exits non-zero when a lookup failed: the day is not closed, and a
cron job or an operator's script must see it. Before, it exited 0 even when every lookup
failed."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import datetime

import httpx
from flow_support import CAIRO, held_booking, set_faults, start_checkout

from race_support import server_env
from support import Account


def _reconcile(database_url: str, kashier_env: dict[str, str], day: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "booklnk.cli", "reconcile", "--date", day],
        env={**server_env(database_url), **kashier_env, "BOOKLNK_KASHIER_TIMEOUT_SECONDS": "2"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_reconcile_exits_1_when_a_lookup_failed_and_0_once_it_succeeds(
    http: httpx.AsyncClient,
    consultancy: tuple[str, Account, str],
    simulator_url: str,
    database_url: str,
    kashier_env: dict[str, str],
) -> None:
    base, _, _ = consultancy
    customer, booking = await held_booking(http, consultancy)
    checkout = await start_checkout(http, base, customer, booking)
    await set_faults(simulator_url, checkout["order_id"], bad_gateway=1)  # Kashier answers 502, once
    day = datetime.now(CAIRO).date().isoformat()

    failed = await asyncio.to_thread(_reconcile, database_url, kashier_env, day)
    assert failed.returncode == 1, failed.stderr
    assert "lookups failed: the day is not fully reconciled; run it again." in failed.stderr

    again = await asyncio.to_thread(_reconcile, database_url, kashier_env, day)
    assert again.returncode == 0, again.stderr
