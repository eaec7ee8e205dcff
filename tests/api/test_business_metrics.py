"""/metrics counts what an operator watches beside HTTP: booking requests by outcome and the
database pool (holds lapsed, webhooks, refunds and promotions are the worker's, counted in
its own tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from booking_support import book, customer, open_bookable_shop
from booklnk.api.app import create_app
from booklnk.config import Settings
from booklnk.db import pool_metrics
from booklnk.db.database import Database
from support import FakeClock

TOKEN = "scrape-0123456789abcdef0123456789abcdef"
TOMORROW_10 = "2026-11-25T10:00:00+02:00"


@pytest.fixture
async def scraped_api(db: Database, settings: Settings, clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    guarded = settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    transport = httpx.ASGITransport(app=create_app(guarded, db, clock=clock), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def _samples(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _booked(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], outcome: str) -> float:
    return samples.get(("booklnk_bookings_total", (("kind", "appointment"), ("outcome", outcome))), 0.0)


async def test_booking_requests_are_counted_by_outcome(scraped_api: httpx.AsyncClient) -> None:
    shop = await open_bookable_shop(scraped_api, barbers=1)
    mona, omar = await customer(scraped_api), await customer(scraped_api)
    before = await _samples(scraped_api)
    assert (await book(scraped_api, shop, mona, TOMORROW_10)).status_code == 201
    assert (await book(scraped_api, shop, omar, TOMORROW_10)).status_code == 409
    after = await _samples(scraped_api)
    assert _booked(after, "created") - _booked(before, "created") == 1
    assert _booked(after, "slot_unavailable") - _booked(before, "slot_unavailable") == 1


async def test_the_database_pool_is_counted(scraped_api: httpx.AsyncClient, db: Database) -> None:
    await customer(scraped_api)
    async with db.transaction():
        pool_metrics.sample(db.engine)  # (the API's lifespan samples every few seconds)
        held = await _samples(scraped_api)
    pool_metrics.sample(db.engine)
    samples = await _samples(scraped_api)
    assert samples[("booklnk_db_connections_opened_total", ())] >= 1
    assert samples[("booklnk_db_pool_capacity", ())] >= 2
    assert (held[("booklnk_db_pool_in_use", ())], samples[("booklnk_db_pool_in_use", ())]) == (1, 0)


def _live_gauge_files(folder: Path) -> list[Path]:
    return list(folder.glob("gauge_livesum_*.db"))


def _a_process_that_leaves_a_live_gauge(folder: Path) -> None:
    """A server process that set a live gauge and exited (its file stays behind)."""
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from prometheus_client import Gauge;"
            " Gauge('booklnk_test_in_use', 'x', multiprocess_mode='livesum').set(3)",
        ],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)},
        check=True,
    )


async def test_a_dead_server_processes_live_gauges_leave_the_sum(
    scraped_api: httpx.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With `serve --workers N` a process that died and was replaced left its last live gauge
    values (connections in use, pool capacity) in every later scrape's sum."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    _a_process_that_leaves_a_live_gauge(tmp_path)
    assert _live_gauge_files(tmp_path)
    samples = await _samples(scraped_api)
    assert ("booklnk_test_in_use", ()) not in samples
    assert _live_gauge_files(tmp_path) == []
