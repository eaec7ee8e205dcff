"""The OpenAPI document is complete enough to build a client from it alone."""

from __future__ import annotations

import re
from typing import Any

import httpx

OPERATIONAL = {"/healthz", "/readyz", "/metrics"}


async def _spec(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    spec: dict[str, Any] = response.json()
    return spec


async def test_every_operation_is_documented(client: httpx.AsyncClient) -> None:
    spec = await _spec(client)
    problems = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            if not op.get("summary"):
                problems.append(f"{where}: no summary")
            if not op.get("tags"):
                problems.append(f"{where}: no tag")
            if not any(code.startswith("2") for code in op["responses"]):
                problems.append(f"{where}: no success response")
            if path in OPERATIONAL:
                continue
            error_codes = {c for c in op["responses"] if c[0] in "45"}
            if not error_codes:
                problems.append(f"{where}: no error responses")
            for code in error_codes - {"422"}:
                content = op["responses"][code].get("content", {})
                if "application/problem+json" not in content:
                    problems.append(f"{where}: {code} is not documented as problem+json")
    assert problems == []


async def test_guarded_operations_declare_bearer_security(client: httpx.AsyncClient) -> None:
    spec = await _spec(client)
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    missing = [
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method, op in item.items()
        # Credentials-for-tokens routes answer 401 for a wrong password, not a missing token.
        if "401" in op["responses"] and not op.get("security") and not path.startswith("/v1/auth/")
    ]
    assert missing == []


async def test_docs_pages_are_served(client: httpx.AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        response = await client.get(page)
        assert response.status_code == 200
        assert "text/html" in response.headers["content-type"]


async def test_every_error_is_problem_json_only_422_included(client: httpx.AsyncClient) -> None:
    """A typed client reads `error.code` on every error. Before, 38 operations documented
    422 in FastAPI's HTTPValidationError shape, and every error was documented under
    application/json as well as application/problem+json."""
    spec = await _spec(client)
    wrong = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            for code, answer in op["responses"].items():
                if code[0] not in "45" or (path, code) == ("/readyz", "503"):
                    continue  # (readiness answers its own small document)
                if set(answer.get("content", {})) != {"application/problem+json"}:
                    wrong.append(f"{method.upper()} {path} {code}: {sorted(answer.get('content', {}))}")
    assert wrong == []
    assert not {"HTTPValidationError", "ValidationError"} & set(spec["components"]["schemas"])


async def test_operation_ids_are_short_stable_names(client: httpx.AsyncClient) -> None:
    """Before, FastAPI's ids appended the path and method (up to 88 characters)."""
    spec = await _spec(client)
    ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if len(i) > 40 or not re.fullmatch(r"[a-z][a-z0-9_]*", i) or "_v1_" in i] == []
    assert "create_booking" in ids
    assert {
        "business_get_weekly_schedule",
        "staff_get_weekly_schedule",
        "resource_get_weekly_schedule",
    } <= set(ids)


async def test_every_operation_that_reads_the_database_documents_the_outage_answer(
    client: httpx.AsyncClient,
) -> None:
    """503 `database_unavailable` with Retry-After was answered but not documented."""
    spec = await _spec(client)
    missing = [
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        if path not in ("/healthz", "/metrics")
        for method, op in item.items()
        if "503" not in op["responses"]
    ]
    assert missing == []
    booking = spec["paths"]["/v1/businesses/{business_id}/bookings"]["post"]["responses"]["503"]
    assert "Retry-After" in booking["headers"]


async def test_the_headers_the_server_sends_are_documented(client: httpx.AsyncClient) -> None:
    """ETag, Idempotent-Replayed and Retry-After were sent but documented nowhere."""
    spec = await _spec(client)
    created = spec["paths"]["/v1/businesses/{business_id}/bookings"]["post"]["responses"]["201"]
    assert {"ETag", "Idempotent-Replayed"} <= set(created["headers"])
    shown = spec["paths"]["/v1/businesses/{business_id}/bookings/{booking_id}"]["get"]["responses"]["200"]
    assert "ETag" in shown["headers"]
    throttled = [
        op["responses"]["429"]
        for item in spec["paths"].values()
        for op in item.values()
        if "429" in op["responses"]
    ]
    assert throttled
    assert all("Retry-After" in answer.get("headers", {}) for answer in throttled)


async def test_the_docs_load_their_files_from_the_app_itself(client: httpx.AsyncClient) -> None:
    """Swagger UI and ReDoc loaded their scripts from a CDN: blank offline or behind a strict
    Content-Security-Policy."""
    for page in ("/docs", "/redoc"):
        html = (await client.get(page)).text
        scripts = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
        assert scripts, html[:500]
        assert all(url.startswith("/") for url in scripts), scripts
        for url in scripts:
            assert (await client.get(url)).status_code == 200, url
