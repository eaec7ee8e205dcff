"""Signed access tokens whose claims are out of range or of the wrong type: each is an
invalid token (401 `invalid_token`), never a 500 and never a token read some other way.

The tokens are signed with the test secret, so only the claims can be at fault."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest

from booklnk.config import Settings
from support import Account, FakeClock, sign_up

# What the app's own tokens carry (booklnk.tenancy.credentials.issue_access_token).
AUDIENCE = "booklnk-api"


def signed(settings: Settings, claims: dict[str, Any]) -> dict[str, str]:
    token = jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


def claims_for(account: Account, clock: FakeClock, **changes: Any) -> dict[str, Any]:
    now = int(clock.now().timestamp())
    claims = {
        "sub": str(account.user_id),
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 900,
        "jti": "0123456789abcdef",
        "adm": False,
    }
    return {**claims, **changes}


async def test_a_well_formed_crafted_token_is_accepted(
    client: httpx.AsyncClient, settings: Settings, clock: FakeClock
) -> None:
    """The control: the tokens below differ from this one only in the claim under test."""
    account = await sign_up(client)
    response = await client.get("/v1/me", headers=signed(settings, claims_for(account, clock)))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"exp": 10**20}, id="exp-beyond-datetime"),
        pytest.param({"exp": 2**63}, id="exp-beyond-int64"),
        pytest.param({"exp": 10**400}, id="exp-400-digits"),
        pytest.param({"exp": -(10**20)}, id="exp-hugely-negative"),
        pytest.param({"exp": float("inf")}, id="exp-infinity"),
        pytest.param({"exp": 1e300}, id="exp-huge-float"),
        pytest.param({"exp": 253_402_300_800}, id="exp-year-10000"),
        pytest.param({"exp": 7_258_118_400}, id="exp-after-2199"),
        pytest.param({"iat": 10**20}, id="iat-beyond-datetime"),
        pytest.param({"iat": -(10**20)}, id="iat-hugely-negative"),
        pytest.param({"iat": float("inf")}, id="iat-infinity"),
        pytest.param({"nbf": float("inf")}, id="nbf-infinity"),
        pytest.param({"nbf": 10**400}, id="nbf-400-digits"),
    ],
)
async def test_out_of_range_numeric_claims_are_invalid_tokens(
    client: httpx.AsyncClient, settings: Settings, clock: FakeClock, changes: dict[str, Any]
) -> None:
    account = await sign_up(client)
    response = await client.get("/v1/me", headers=signed(settings, claims_for(account, clock, **changes)))
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_token"


@pytest.mark.parametrize(
    "changes",
    [
        # Strings and booleans are not NumericDates (RFC 7519): they were read as numbers.
        pytest.param({"exp": "4102444800"}, id="exp-string"),
        pytest.param({"exp": True}, id="exp-boolean"),
        pytest.param({"exp": 4_102_444_800.5}, id="exp-float"),
        pytest.param({"iat": "now"}, id="iat-string"),
        pytest.param({"iat": False}, id="iat-boolean"),
        pytest.param({"sub": 12345}, id="sub-number"),
        pytest.param({"sub": ["x"]}, id="sub-list"),
        # A claim the app never mints this way: `bool("false")` read it as an admin claim.
        pytest.param({"adm": "false"}, id="adm-string"),
        pytest.param({"adm": 1}, id="adm-number"),
    ],
)
async def test_claims_of_the_wrong_type_are_invalid_tokens(
    client: httpx.AsyncClient, settings: Settings, clock: FakeClock, changes: dict[str, Any]
) -> None:
    account = await sign_up(client)
    response = await client.get("/v1/me", headers=signed(settings, claims_for(account, clock, **changes)))
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "invalid_token"


async def test_issued_after_it_expires_is_an_invalid_token(
    client: httpx.AsyncClient, settings: Settings, clock: FakeClock
) -> None:
    account = await sign_up(client)
    now = int(clock.now().timestamp())
    claims = claims_for(account, clock, iat=now + 3600, exp=now + 900)
    response = await client.get("/v1/me", headers=signed(settings, claims))
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "invalid_token"


async def test_a_long_lived_token_within_range_still_expires_by_the_clock(
    client: httpx.AsyncClient, settings: Settings, clock: FakeClock
) -> None:
    """The bound is on representable instants, not a new lifetime rule."""
    account = await sign_up(client)
    headers = signed(settings, claims_for(account, clock, exp=int(clock.now().timestamp()) + 3600))
    assert (await client.get("/v1/me", headers=headers)).status_code == 200
    clock.advance(timedelta(hours=1))
    assert (await client.get("/v1/me", headers=headers)).status_code == 401
