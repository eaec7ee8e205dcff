"""Inputs and settings that once slipped through: each now meets a clear 4xx or refusal."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from pydantic import ValidationError

from booklnk.config import Settings
from support import PASSWORD, code_sent_to, create_business, sign_up


async def test_tokens_signed_otherwise_are_refused(client: httpx.AsyncClient) -> None:
    account = await sign_up(client)
    now = datetime.now(UTC)
    claims = {"sub": str(account.user_id), "aud": "booklnk-api", "iat": now, "exp": now + timedelta(hours=1)}
    other_key = jwt.encode(claims, "some-other-key-of-sufficient-length-0123456789", algorithm="HS256")
    wrong_audience = jwt.encode(
        {**claims, "aud": "elsewhere"},
        "test-secret-that-is-long-enough-for-hs256-0123456789",
        algorithm="HS256",
    )
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps({**claims, "iat": 0, "exp": 9_999_999_999}).encode()).rstrip(
        b"="
    )
    unsigned = f"{header.decode()}.{body.decode()}."
    for token in (other_key, wrong_audience, unsigned):
        response = await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token


def test_production_refuses_the_development_secrets() -> None:
    with pytest.raises(ValidationError, match="BOOKLNK_JWT_SECRET"):
        Settings(environment="production")
    with pytest.raises(ValidationError, match="BOOKLNK_JWT_SECRET"):
        Settings(environment="production", jwt_secret="short")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="BOOKLNK_KASHIER_API_KEY"):
        Settings(environment="production", jwt_secret="x" * 40)  # type: ignore[arg-type]


async def test_nul_character_is_422_not_500(client: httpx.AsyncClient) -> None:
    owner = await sign_up(client)
    response = await client.post(
        "/v1/businesses",
        headers=owner.headers,
        json={"name": "Bad\x00Name", "slug": "nul-name", "business_type": "barbershop"},
    )
    assert response.status_code == 422
    assert (await client.get("/v1/business-types/bar%00ber")).status_code in (404, 422)


async def test_tampered_cursor_is_422_not_500(client: httpx.AsyncClient) -> None:
    owner = await sign_up(client)
    for value in ("\x00", "\ud800"):
        cursor = base64.urlsafe_b64encode(json.dumps([value, str(uuid.uuid4())]).encode()).decode()
        response = await client.get("/v1/businesses", headers=owner.headers, params={"cursor": cursor})
        assert response.status_code == 422


async def test_extreme_time_off_instants_are_422(client: httpx.AsyncClient) -> None:
    owner = await sign_up(client)
    business_id = await create_business(client, owner)
    staff = await client.post(
        f"/v1/businesses/{business_id}/staff", headers=owner.headers, json={"display_name": "S"}
    )
    url = f"/v1/businesses/{business_id}/staff/{staff.json()['id']}/time-off"
    for starts_at in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-12:00"):
        response = await client.post(
            url, headers=owner.headers, json={"starts_at": starts_at, "ends_at": "2030-01-01T00:00:00Z"}
        )
        assert response.status_code == 422, response.text


async def test_email_case_is_folded_by_one_rule(client: httpx.AsyncClient) -> None:
    email = "İbrahim@example.com"  # Python and PostgreSQL lowercase this letter differently
    registered = await client.post("/v1/auth/register", json={"email": email})
    assert registered.status_code == 202
    verified = await client.post(
        "/v1/auth/register/verify",
        json={"email": email, "code": await code_sent_to(email), "password": PASSWORD, "full_name": "I"},
    )
    assert verified.status_code == 201, verified.text
    login = await client.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200
