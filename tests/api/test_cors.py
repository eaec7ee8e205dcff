"""CORS: a browser app on an allowed origin can call the API (its preflight succeeds and it
may read the headers the API's contract uses); any other origin gets no CORS header, and
with no origin configured the API sends none at all."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from booklnk.api.app import create_app
from booklnk.config import Settings
from booklnk.db.database import Database
from support import FakeClock

APP = "https://app.example.com"


@pytest.fixture
async def browser_api(db: Database, settings: Settings, clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    allowed = settings.model_copy(update={"cors_allowed_origins": [APP, "http://localhost:5173"]})
    transport = httpx.ASGITransport(app=create_app(allowed, db, clock=clock), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def _preflight(origin: str, method: str, headers: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


async def test_a_preflight_from_an_allowed_origin_succeeds(browser_api: httpx.AsyncClient) -> None:
    asked = "authorization, content-type, idempotency-key, if-match, x-request-id, accept-language"
    response = await browser_api.options("/v1/businesses/x/bookings", headers=_preflight(APP, "POST", asked))
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == APP
    allowed_methods = {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= allowed_methods
    allowed_headers = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {h.strip() for h in asked.split(",")} <= allowed_headers
    # Bearer tokens, not cookies: the browser never sends credentials.
    assert "access-control-allow-credentials" not in response.headers


async def test_a_response_to_an_allowed_origin_exposes_the_contracts_headers(
    browser_api: httpx.AsyncClient,
) -> None:
    response = await browser_api.get("/v1/me", headers={"Origin": APP})
    assert response.status_code == 401  # problem+json a browser app can read
    assert response.headers["access-control-allow-origin"] == APP
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"etag", "x-request-id", "idempotent-replayed", "retry-after", "location"} <= exposed


async def test_another_origin_gets_no_cors_headers(browser_api: httpx.AsyncClient) -> None:
    preflight = await browser_api.options(
        "/v1/auth/login", headers=_preflight("https://evil.example.net", "POST", "content-type")
    )
    assert "access-control-allow-origin" not in preflight.headers
    simple = await browser_api.get("/healthz", headers={"Origin": "https://evil.example.net"})
    assert simple.status_code == 200
    assert "access-control-allow-origin" not in simple.headers


async def test_no_origin_configured_means_no_cors(client: httpx.AsyncClient) -> None:
    preflight = await client.options("/v1/auth/login", headers=_preflight(APP, "POST", "content-type"))
    assert "access-control-allow-origin" not in preflight.headers
    assert (
        "access-control-allow-origin" not in (await client.get("/healthz", headers={"Origin": APP})).headers
    )


def test_origins_are_a_comma_list_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOKLNK_CORS_ALLOWED_ORIGINS", "https://app.example.com, http://localhost:5173")
    assert Settings().cors_allowed_origins == ["https://app.example.com", "http://localhost:5173"]
    monkeypatch.setenv("BOOKLNK_CORS_ALLOWED_ORIGINS", "")
    assert Settings().cors_allowed_origins == []


@pytest.mark.parametrize(
    "origin", ["https://app.example.com/", "app.example.com", "https://app.example.com/path"]
)
def test_an_origin_is_a_scheme_and_a_host(monkeypatch: pytest.MonkeyPatch, origin: str) -> None:
    monkeypatch.setenv("BOOKLNK_CORS_ALLOWED_ORIGINS", origin)
    with pytest.raises(ValueError, match="scheme://host"):
        Settings()
