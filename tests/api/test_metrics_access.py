"""The API's /metrics is for the scraper that holds BOOKLNK_METRICS_TOKEN: without the
setting it does not exist (404), with it only that bearer token reads it (401 otherwise),
and the token never reaches a log line."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from booklnk.api.app import create_app
from booklnk.config import Settings
from booklnk.db.database import Database
from support import FakeClock

TOKEN = "scrape-0123456789abcdef0123456789abcdef"


@pytest.fixture
async def scraped_api(db: Database, settings: Settings, clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    guarded = settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    transport = httpx.ASGITransport(app=create_app(guarded, db, clock=clock), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_without_a_token_configured_there_are_no_metrics(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert "booklnk_http_requests_total" not in response.text


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN[:-1]}"],
)
async def test_only_the_metrics_token_reads_them(
    scraped_api: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await scraped_api.get("/metrics", headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert "booklnk_http_requests_total" not in response.text


async def test_the_scraper_reads_them_and_its_token_is_not_logged(
    scraped_api: httpx.AsyncClient, log_stream: io.StringIO
) -> None:
    await scraped_api.get("/healthz")
    response = await scraped_api.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert 'booklnk_http_requests_total{method="GET",route="/healthz",status="200"}' in response.text
    await scraped_api.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}-wrong"})
    logged = log_stream.getvalue()
    requests = [line for line in map(json.loads, logged.splitlines()) if line["event"] == "request"]
    assert [(line["path"], line["status"]) for line in requests] == [
        ("/healthz", 200),
        ("/metrics", 200),
        ("/metrics", 401),
    ]
    assert TOKEN not in logged


def test_the_token_is_a_secret_of_some_length(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOKLNK_METRICS_TOKEN", "short")
    with pytest.raises(ValueError, match="at least 16"):
        Settings()
    monkeypatch.setenv("BOOKLNK_METRICS_TOKEN", TOKEN)
    assert TOKEN not in repr(Settings())
