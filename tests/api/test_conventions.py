"""problem+json for every error, request ids, health and readiness."""

from __future__ import annotations

import httpx


async def test_unknown_route_is_problem_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


async def test_wrong_method_is_problem_json_405(client: httpx.AsyncClient) -> None:
    response = await client.delete("/v1/auth/login")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"


async def test_missing_token_is_problem_json_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["status"] == 401


async def test_malformed_json_is_422_not_500(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/auth/register", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["rule"] == "json_invalid"


async def test_request_id_is_echoed_and_generated(client: httpx.AsyncClient) -> None:
    given = "5f7c2f1e0c9a4d2b8e3f6a1b2c3d4e5f"
    echoed = await client.get("/healthz", headers={"X-Request-ID": given})
    assert echoed.headers["x-request-id"] == given
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) >= 32
    problem = await client.get("/v1/nope", headers={"X-Request-ID": given})
    assert problem.json()["request_id"] == given


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    # Metrics are for the scraper holding their token: tests/api/test_metrics_access.py.
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ok"}
