"""The SMS channel against the Cequens simulator over real HTTP (both on local ports, in
threads of their own): what the gateway receives, how its failures map to Refused and
Unavailable, and the delivery report reaching our own small receiver with a signature we
accept. `parse_report` is pure."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from booklnk.notifications.channel import Outgoing, Refused, Unavailable
from booklnk.notifications.rendering import Rendered
from booklnk.notifications.simulators.sms import SmsStore, start
from booklnk.notifications.simulators.threaded import ServerThread
from booklnk.notifications.sms import CequensConfig, Report, parse_report, report_link, sender, verify_report
from mail_server import free_port

API_KEY = "key-that-must-not-leak"
SECRET = "report-secret"
ENGLISH = "Booklnk: your code is 048213. It expires in 15 minutes."
ARABIC = "بوكلنك: رمزك 048213. ينتهي خلال 15 دقيقة."


@dataclass
class Receiver:
    """Our side of the delivery reports: what was posted, with the link's query."""

    url: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    received: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)

    def about(self, reference: str) -> list[tuple[dict[str, str], dict[str, Any]]]:
        """The reports posted for one message (others' may still arrive from earlier tests)."""
        with self.lock:
            return [(query, body) for query, body in self.received if query.get("ref") == reference]

    async def wait_for(
        self, reference: str, seconds: float = 10.0
    ) -> list[tuple[dict[str, str], dict[str, Any]]]:
        for _ in range(int(seconds / 0.05)):
            if found := self.about(reference):
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"no report for {reference}")


@dataclass
class Gateway:
    store: SmsStore
    url: str
    config: CequensConfig


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[SmsStore, ServerThread, Receiver, ServerThread]]:
    store = SmsStore()
    simulator = start(store)
    receiver = Receiver(url="")

    async def reports(request: Request) -> Response:
        body = await request.json()
        with receiver.lock:
            receiver.received.append((dict(request.query_params), body))
        return Response(status_code=204)

    intake = ServerThread(Starlette(routes=[Route("/reports", reports, methods=["POST"])])).start()
    receiver.url = f"{intake.url}/reports"
    yield store, simulator, receiver, intake
    intake.stop()
    simulator.stop()


@pytest.fixture
def gateway(running: tuple[SmsStore, ServerThread, Receiver, ServerThread]) -> Iterator[Gateway]:
    store, simulator, receiver, _ = running
    store.clear()
    store.clear_faults()
    config = CequensConfig(
        api_url=simulator.url,
        username="booklnk",
        api_key=API_KEY,
        sender_name="Booklnk",
        report_url=receiver.url,
        report_secret=SECRET,
        timeout_seconds=5.0,
    )
    yield Gateway(store, simulator.url, config)
    store.clear_faults()


@pytest.fixture
def receiver(running: tuple[SmsStore, ServerThread, Receiver, ServerThread]) -> Receiver:
    return running[2]


def outgoing(short: str = ENGLISH, address: str = "+201001234567", language: str = "en") -> Outgoing:
    rendered = Rendered(subject="", text=short, html="", language=language, short=short)
    return Outgoing(
        key=str(uuid.uuid4()),
        address=address,
        template="registration_code",
        language=language,
        params={},
        rendered=rendered,
        reference=f"msg-{uuid.uuid4()}",
    )


async def _messages(url: str, to: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{url}/__sim/messages", params={"to": to})
    assert answer.status_code == 200
    found: list[dict[str, Any]] = answer.json()
    return found


async def _fault(url: str, body: dict[str, Any]) -> None:
    async with httpx.AsyncClient() as http:
        assert (await http.post(f"{url}/__sim/faults", json=body)).status_code == 204


# --- Sending ---------------------------------------------------------------------------


async def test_english_goes_as_text_and_arabic_as_unicode(gateway: Gateway) -> None:
    send = sender(gateway.config)
    english_id = await send(outgoing(ENGLISH))
    arabic_id = await send(outgoing(ARABIC, language="ar"))
    arabic, english = await _messages(gateway.url, "+201001234567")  # newest first
    assert (english["id"], english["type"], english["text"]) == (english_id, "text", ENGLISH)
    assert (arabic["id"], arabic["type"], arabic["text"]) == (arabic_id, "unicode", ARABIC)
    assert english["to"] == arabic["to"] == "201001234567"
    assert english["sender"] == "Booklnk"
    assert english["segments"] == arabic["segments"] == 1


async def test_a_client_of_the_callers_is_used_and_left_open(gateway: Gateway) -> None:
    async with httpx.AsyncClient() as http:
        send = sender(gateway.config, http)
        await send(outgoing())
        await send(outgoing())
        assert not http.is_closed
    assert len(gateway.store.newest_first()) == 2


async def test_an_expired_token_is_renewed_once(gateway: Gateway) -> None:
    send = sender(gateway.config)
    await send(outgoing())
    async with httpx.AsyncClient() as http:
        assert (await http.delete(f"{gateway.url}/__sim/tokens")).status_code == 204
    await send(outgoing())
    assert len(gateway.store.newest_first()) == 2


async def test_wrong_credentials_are_unavailable_and_leak_nothing(gateway: Gateway) -> None:
    await _fault(gateway.url, {"wrongCredentials": True})
    with pytest.raises(Unavailable) as raised:
        await sender(gateway.config)(outgoing())
    assert API_KEY not in str(raised.value)
    assert gateway.store.newest_first() == []


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_a_server_error_or_rate_limit_is_unavailable_then_it_goes(
    gateway: Gateway, status: int
) -> None:
    await _fault(gateway.url, {"status": status, "count": 1})
    send = sender(gateway.config)
    with pytest.raises(Unavailable, match=str(status)):
        await send(outgoing())
    await send(outgoing())
    assert len(gateway.store.newest_first()) == 1


async def test_no_credit_is_unavailable(gateway: Gateway) -> None:
    await _fault(gateway.url, {"replyCode": -17, "count": 2})
    send = sender(gateway.config)
    for _ in range(2):
        with pytest.raises(Unavailable, match="-17"):
            await send(outgoing(ARABIC))
    await send(outgoing(ARABIC))


@pytest.mark.parametrize("code", [-6, -8, -9, -12, -15, -16, -41, -99])
async def test_gateway_refusals_are_refused_naming_the_code(gateway: Gateway, code: int) -> None:
    await _fault(gateway.url, {"replyCode": code})
    text = "the words of a private message"
    with pytest.raises(Refused, match=str(code)) as raised:
        await sender(gateway.config)(outgoing(text))
    assert text not in str(raised.value)


async def test_another_client_error_is_refused(gateway: Gateway) -> None:
    await _fault(gateway.url, {"status": 403})
    with pytest.raises(Refused, match="403"):
        await sender(gateway.config)(outgoing())


async def test_the_gateway_itself_refuses_more_than_20_parts(gateway: Gateway) -> None:
    lenient = replace(gateway.config, max_segments=50)
    with pytest.raises(Refused, match="-41"):
        await sender(lenient)(outgoing("ب" * 67 * 21))
    assert gateway.store.newest_first() == []


async def test_too_many_segments_are_refused_before_sending(gateway: Gateway) -> None:
    seven_parts = "ب" * (67 * 6 + 1)
    with pytest.raises(Refused, match="7 segments"):
        await sender(gateway.config)(outgoing(seven_parts))
    await sender(gateway.config)(outgoing("ب" * 67 * 6))  # six go
    [sent] = gateway.store.newest_first()
    assert sent.parts == 6


async def test_an_address_that_is_not_e164_is_refused_before_sending(gateway: Gateway) -> None:
    for address in ("01001234567", "+20 100 123 4567", "+2010", "nour@example.com"):
        with pytest.raises(Refused):
            await sender(gateway.config)(outgoing(address=address))
    assert gateway.store.newest_first() == []


async def test_no_gateway_is_unavailable() -> None:
    config = CequensConfig(
        api_url=f"http://127.0.0.1:{free_port()}",
        username="booklnk",
        api_key=API_KEY,
        sender_name="Booklnk",
        report_url=None,
        report_secret=SECRET,
        timeout_seconds=2.0,
    )
    with pytest.raises(Unavailable) as raised:
        await sender(config)(outgoing())
    assert API_KEY not in str(raised.value)
    assert API_KEY not in repr(config)


# --- Delivery reports ------------------------------------------------------------------


async def test_the_report_reaches_us_signed_and_parses(gateway: Gateway, receiver: Receiver) -> None:
    message = outgoing()
    provider_id = await sender(gateway.config)(message)
    [(query, body)] = await receiver.wait_for(message.reference)
    assert query["ref"] == message.reference
    assert verify_report(SECRET, query["ref"], query["sig"])
    assert not verify_report("another secret", query["ref"], query["sig"])
    report = parse_report(body)
    assert report is not None
    assert (report.provider_message_id, report.status) == (provider_id, "delivered")
    assert report.at is not None
    [sent] = await _messages(gateway.url, "201001234567")
    assert (sent["report"], sent["reportPosted"]) == ("delivered", True)


async def test_an_undeliverable_number_reports_undelivered(gateway: Gateway, receiver: Receiver) -> None:
    await _fault(gateway.url, {"undeliverable": ["+201009999999"]})
    message = outgoing(address="+201009999999")
    provider_id = await sender(gateway.config)(message)
    [(_, body)] = await receiver.wait_for(message.reference)
    report = parse_report(body)
    assert report is not None
    assert (report.provider_message_id, report.status) == (provider_id, "undelivered")


async def test_no_report_url_asks_for_no_report(gateway: Gateway, receiver: Receiver) -> None:
    message = outgoing()
    await sender(replace(gateway.config, report_url=None))(message)
    await asyncio.sleep(0.3)
    assert receiver.about(message.reference) == []
    [sent] = gateway.store.newest_first()
    assert sent.dlr_url is None


def test_report_link_and_its_signature() -> None:
    config = CequensConfig("https://x", "u", "k", "Booklnk", "https://booklnk.example/r?v=1", SECRET)
    link = report_link(config, "a b&c")
    assert link is not None
    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    assert query["v"] == "1"
    assert query["ref"] == "a b&c"
    assert verify_report(SECRET, "a b&c", query["sig"])
    assert not verify_report(SECRET, "a b&d", query["sig"])
    assert not verify_report(SECRET, "a b&c", "")
    assert not verify_report(SECRET, "a b&c", "é" * 64)
    assert report_link(replace(config, report_url=None), "x") is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"messageId": "abc", "status": 1, "deliveryDate": "2026-11-26T08:00:00.123Z"},
            Report("abc", "delivered", datetime(2026, 11, 26, 8, 0, 0, 123000, tzinfo=UTC)),
        ),
        (
            {"messageId": "abc", "status": "2", "submitDate": "2026-11-26T08:00:00.123"},
            Report("abc", "undelivered", datetime(2026, 11, 26, 8, 0, 0, 123000, tzinfo=UTC)),
        ),
        ({"messageId": 42, "status": "1", "deliveryDate": "yesterday"}, Report("42", "delivered", None)),
        ({"messageId": "abc", "status": 3}, None),
        ({"messageId": "abc", "status": True}, None),
        ({"messageId": "", "status": 1}, None),
        ({"messageId": None, "status": 1}, None),
        ({"status": 1}, None),
        ({"messageId": "abc"}, None),
        ({}, None),
    ],
)
def test_parse_report(body: dict[str, Any], expected: Report | None) -> None:
    assert parse_report(body) == expected
