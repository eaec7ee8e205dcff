"""Request bodies are bounded per route before anything parses them: a declared size past
the limit is answered 413 without reading the body, a streamed (chunked) body is cut at
the limit, and the answer is problem+json naming the limit. In-process app, real database."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx

from booklnk.api.app import create_app
from booklnk.config import Settings
from booklnk.db.database import Database
from booklnk.payments.kashier.signing import webhook_signature
from support import FakeClock

VERIFY = "/v1/auth/register/verify"
WEBHOOK = "/v1/webhooks/kashier"
KB = 1024


class Chunks:
    """A request body of `count` chunks of `size` bytes that notes how many were pulled."""

    def __init__(self, count: int, size: int = KB) -> None:
        self.count = count
        self.size = size
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.count):
            self.pulled += 1
            yield b"x" * self.size


def _assert_too_large(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["code"], problem["status"], problem["limit"]) == ("body_too_large", 413, limit)
    assert str(limit) in problem["detail"]
    assert problem["request_id"]


async def test_a_declared_body_past_the_webhook_limit_is_refused_unread(client: httpx.AsyncClient) -> None:
    body = Chunks(100 * KB)  # 100 MB, if anyone read it
    headers = {"content-type": "application/json", "content-length": str(100 * KB * KB)}
    response = await client.post(WEBHOOK, content=body, headers=headers)
    _assert_too_large(response, 16 * KB)
    assert body.pulled == 0


async def test_a_chunked_webhook_body_is_read_up_to_its_limit_only(client: httpx.AsyncClient) -> None:
    body = Chunks(100 * KB)  # no Content-Length: sent chunked
    response = await client.post(WEBHOOK, content=body, headers={"content-type": "application/json"})
    _assert_too_large(response, 16 * KB)
    assert body.pulled == 17  # the first chunk past 16 KB, and no more


async def test_a_webhook_of_kashiers_size_is_taken(client: httpx.AsyncClient, settings: Settings) -> None:
    # Every field PROTOCOL.md §3 lists, Arabic text and metadata included: about 1 KB.
    data = {
        "merchantOrderId": "bk-unknown-order",
        "kashierOrderId": "k-0123456789abcdef",
        "orderReference": "TEST-ORD-12345678",
        "transactionId": "TX-0123456789",
        "status": "SUCCESS",
        "method": "card",
        "creationDate": "2026-11-24T09:00:00.000Z",
        "amount": 150.5,
        "currency": "EGP",
        "card": {
            "cardInfo": {"cardHolderName": "Mona Adel", "cardBrand": "Visa", "maskedCard": "411111******1111"}
        },
        "transactionResponseCode": "00",
        "transactionResponseMessage": {"en": "Approved", "ar": "تمت الموافقة على العملية"},
        "channel": "online",
        "metaData": {"booking_id": "0b5c3f0e-8a39-4a53-9a7e-4f3f2b1c0d9e", "business": "biz-example"},
        "signatureKeys": [
            "amount", "channel", "currency", "kashierOrderId", "merchantOrderId", "method",
            "orderReference", "status", "transactionId", "transactionResponseCode",
        ],
    }  # fmt: skip
    body = json.dumps({"event": "pay", "data": data}).encode()
    signature = webhook_signature(settings.kashier_api_key.get_secret_value(), data)
    headers = {"content-type": "application/json", "x-kashier-signature": signature}
    response = await client.post(WEBHOOK, content=body, headers=headers)
    assert (response.status_code, response.json()["received"]) == (200, True), response.text


async def test_other_routes_take_the_default_limit(client: httpx.AsyncClient) -> None:
    def verify(padding: int) -> dict[str, str]:
        return {
            "email": "a@example.com",
            "code": "123456",
            "password": "correct-horse-battery",
            "full_name": "x" * padding,
        }

    # Under 64 KB the body is parsed (and refused for its name's length), over it never is.
    parsed = await client.post(VERIFY, json=verify(60 * KB))
    assert (parsed.status_code, parsed.json()["code"]) == (422, "validation_failed")
    refused = await client.post(VERIFY, json=verify(65 * KB))
    _assert_too_large(refused, 64 * KB)
    streamed = Chunks(100)
    chunked = await client.post(VERIFY, content=streamed, headers={"content-type": "application/json"})
    _assert_too_large(chunked, 64 * KB)
    assert streamed.pulled == 65


async def test_the_limits_are_settings(db: Database, settings: Settings, clock: FakeClock) -> None:
    small = settings.model_copy(update={"max_body_bytes": 2 * KB, "max_webhook_body_bytes": 4 * KB})
    transport = httpx.ASGITransport(app=create_app(small, db, clock=clock), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        _assert_too_large(await http.post("/v1/auth/register", content=b"x" * 3 * KB), 2 * KB)
        taken = await http.post(WEBHOOK, content=b"x" * 3 * KB)
        assert (taken.status_code, taken.json()["code"]) == (422, "validation_failed")
        _assert_too_large(await http.post(WEBHOOK, content=b"x" * 5 * KB), 4 * KB)


async def test_the_document_says_which_operations_may_answer_413(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    register = spec["paths"]["/v1/auth/register"]["post"]["responses"]
    webhook = spec["paths"][WEBHOOK]["post"]["responses"]
    for responses in (register, webhook):
        assert "application/problem+json" in responses["413"]["content"]
    assert "413" not in spec["paths"]["/v1/me"]["get"]["responses"]
