"""Structured logs: one JSON line per request with its id, and no secrets."""

from __future__ import annotations

import io
import json

import httpx

from support import code_sent_to, create_business, sign_up


async def test_request_lines_are_json_with_request_id_and_no_secrets(
    client: httpx.AsyncClient, log_stream: io.StringIO
) -> None:
    password = "very-secret-password-123"
    await client.post("/v1/auth/register", json={"email": "l@example.com"})
    code = await code_sent_to("l@example.com")
    verified = await client.post(
        "/v1/auth/register/verify",
        json={"email": "l@example.com", "code": code, "password": password, "full_name": "L"},
    )
    assert verified.status_code == 201
    login = await client.post(
        "/v1/auth/login",
        json={"email": "l@example.com", "password": password},
        headers={"X-Request-ID": "a" * 32},
    )
    err = log_stream.getvalue()
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    login_line = next(line for line in lines if line.get("path") == "/v1/auth/login")
    assert login_line["request_id"] == "a" * 32
    assert login_line["status"] == 200
    for secret in (password, code, login.json()["access_token"], login.json()["refresh_token"]):
        assert secret not in err


async def test_a_request_line_names_its_route_tenant_caller_and_problem(
    client: httpx.AsyncClient, log_stream: io.StringIO
) -> None:
    """Before, a line had the raw path only: one tenant's or one caller's trouble could not
    be told from the rest, nor a problem's code from another of the same status."""
    owner = await sign_up(client, "owner")
    business = await create_business(client, owner)
    missing = "00000000-0000-4000-8000-000000000000"
    await client.get(f"/v1/businesses/{business}/bookings/{missing}", headers=owner.headers)
    lines = [json.loads(line) for line in log_stream.getvalue().splitlines() if line.startswith("{")]
    line = next(x for x in lines if x.get("event") == "request" and missing in x.get("path", ""))
    assert line["route"] == "/v1/businesses/{business_id}/bookings/{booking_id}"
    assert line["business_id"] == str(business)
    assert line["user_id"] == str(owner.user_id)
    assert line["status"] == 404
    assert line["problem"] == "booking_not_found"
