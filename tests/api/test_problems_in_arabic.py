"""Problems in the caller's language: Arabic when `Accept-Language` prefers it, English
otherwise; the code, the status and the fields named stay the same."""

from __future__ import annotations

import httpx

from booklnk.api import problems_ar
from booklnk.api.problem_codes import CODES
from booklnk.api.problems import _TITLES
from support import log_in, sign_up

AR = {"Accept-Language": "ar-EG,ar;q=0.9,en;q=0.5"}


def test_every_code_and_status_has_arabic_words() -> None:
    assert problems_ar.DETAILS.keys() == CODES.keys()
    assert problems_ar.TITLES.keys() == _TITLES.keys()


async def test_a_refused_login_in_arabic_and_in_english(client: httpx.AsyncClient) -> None:
    body = {"email": "ghost@example.com", "password": "not-a-password"}
    arabic = await client.post("/v1/auth/login", json=body, headers=AR)
    english = await client.post("/v1/auth/login", json=body)
    assert arabic.status_code == english.status_code == 401
    assert arabic.json()["code"] == english.json()["code"] == "invalid_credentials"
    assert (arabic.json()["title"], arabic.json()["detail"]) == (
        "غير مصرّح",
        problems_ar.DETAILS["invalid_credentials"],
    )
    assert arabic.headers["content-language"] == "ar"
    assert english.json()["title"] == "Unauthorized"
    assert english.headers["content-language"] == "en"
    assert "accept-language" in arabic.headers["vary"].lower()


async def test_bad_input_in_arabic_still_names_the_field_and_the_rule(client: httpx.AsyncClient) -> None:
    body = {"email": "a@example.com", "code": "123456", "password": "short", "full_name": "A"}
    answer = await client.post("/v1/auth/register/verify", json=body, headers=AR)
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["title"] == "بيانات غير صالحة"
    assert problem["detail"] == problems_ar.DETAILS["validation_failed"]
    assert [(e["field"], e["rule"]) for e in problem["errors"]] == [("body.password", "string_too_short")]


async def test_without_accept_language_an_arabic_account_reads_arabic(client: httpx.AsyncClient) -> None:
    account = await sign_up(client, "mona")
    chose = await client.patch("/v1/me", json={"language": "ar"}, headers=account.headers)
    assert chose.status_code == 200, chose.text
    account = await log_in(client, account.email, account.user_id)  # a token issued in Arabic
    body = {"phone": "0223456789", "channel": "sms"}  # a landline: 422
    arabic = await client.post("/v1/me/phone", json=body, headers=account.headers)
    assert (arabic.status_code, arabic.headers["content-language"]) == (422, "ar")
    assert arabic.json()["detail"] == problems_ar.DETAILS["validation_failed"]
    asked = await client.post("/v1/me/phone", json=body, headers={**account.headers, "Accept-Language": "en"})
    assert asked.headers["content-language"] == "en"  # the request's own choice comes first
    stranger = await client.post("/v1/auth/login", json={"email": "ghost@example.com", "password": "x" * 10})
    assert stranger.headers["content-language"] == "en"
