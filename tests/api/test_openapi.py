"""The OpenAPI document is complete enough to build a client from it alone."""

from __future__ import annotations

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
