"""The WhatsApp channel over real HTTP: the sender against the Cloud API simulator on a local
port, and the simulator's signed status webhooks reaching a local receiver, read back by the
channel's own intake helpers."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from booklnk.notifications.channel import Outgoing, Refused, Unavailable
from booklnk.notifications.rendering import render
from booklnk.notifications.simulators.threaded import ServerThread
from booklnk.notifications.simulators.whatsapp import WhatsAppSim, start
from booklnk.notifications.whatsapp import WhatsAppConfig, parse_statuses, sender, verify_signature

TOKEN = "test-access-token"
SECRET = "test-app-secret"
BOOKING = {
    "name": "هاني",
    "service": "قص شعر",
    "business": "Cairo Cuts",
    "starts_at": "2026-11-26T08:00:00+00:00",
    "time_zone": "Africa/Cairo",
    "price_minor": 15_000,
    "currency": "EGP",
}


class Receiver:
    """Our side of the webhook, as small as it gets: keeps each body and its headers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.received: list[tuple[bytes, dict[str, str]]] = []

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self.received.append((body, dict(request.headers)))
        return Response(status_code=200)

    def bodies(self) -> list[tuple[bytes, dict[str, str]]]:
        with self._lock:
            return list(self.received)


@dataclass
class Served:
    state: WhatsAppSim
    sim: ServerThread
    receiver: Receiver

    def config(self, token: str = TOKEN) -> WhatsAppConfig:
        return WhatsAppConfig(
            api_url=self.sim.url,
            phone_number_id="100000000000001",
            access_token=token,
            app_secret=SECRET,
            verify_token="unused",
            timeout_seconds=5.0,
        )


@pytest.fixture(scope="module")
def servers() -> Iterator[Served]:
    receiver = Receiver()
    hooks = ServerThread(
        Starlette(routes=[Route("/webhooks/whatsapp", receiver.hook, methods=["POST"])])
    ).start()
    state = WhatsAppSim(
        access_token=TOKEN,
        app_secret=SECRET,
        webhook_url=f"{hooks.url}/webhooks/whatsapp",
        retry_delays=(0.05,),
    )
    sim = start(state)
    try:
        yield Served(state, sim, receiver)
    finally:
        sim.stop()
        hooks.stop()


@pytest.fixture
def served(servers: Served) -> Iterator[Served]:
    yield servers
    servers.state.clear()
    servers.state.clear_faults()


def outgoing(template: str = "booking_confirmed", language: str = "ar", **params: Any) -> Outgoing:
    values = {**BOOKING, **params}
    return Outgoing(
        key="m1",
        address="+201001234567",
        template=template,
        language=language,
        params=values,
        rendered=render(template, language, values),
        reference="t42/m981",
    )


async def admin(served: Served, method: str, path: str, body: Any = None) -> Any:
    async with httpx.AsyncClient(base_url=served.sim.url) as http:
        answer = await http.request(method, path, json=body)
    assert answer.status_code in (200, 204), answer.text
    return answer.json() if answer.status_code == 200 else None


async def test_an_arabic_booking_confirmation_arrives_as_its_template(served: Served) -> None:
    wamid = await sender(served.config())(outgoing())

    [message] = await admin(served, "GET", "/__sim/messages?to=%2B201001234567")
    assert message["id"] == wamid
    assert wamid.startswith("wamid.")
    assert message["template"] == "booklnk_booking_confirmed"
    assert message["language"] == "ar"
    assert message["reference"] == "t42/m981"
    assert message["parameters"] == {
        "customer_name": f"\u2068{BOOKING['name']}\u2069",
        "service": "\u2068قص شعر\u2069",
        "business": "\u2068Cairo Cuts\u2069",
        "date": "الخميس، 26 نوفمبر",
        "time": "10:00 ص",
        "price": "\u200f150.00\xa0ج.م.\u200f",
    }
    assert "تم تأكيد حجزك" in message["text"]
    assert "{{" not in message["text"]


async def test_an_english_sign_in_code_goes_as_an_authentication_template(served: Served) -> None:
    await sender(served.config())(outgoing("sign_in_code", "en", code="048213", minutes=15))
    [message] = await admin(served, "GET", "/__sim/messages")
    assert (message["template"], message["language"], message["category"]) == (
        "booklnk_sign_in_code",
        "en_US",
        "AUTHENTICATION",
    )
    assert message["parameters"] == {"code": "048213"}
    assert message["text"].startswith("048213 is your verification code")


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"status": 500, "count": 1}, Unavailable),
        ({"status": 503, "code": 131016, "count": 1}, Unavailable),
        ({"code": 130429, "count": 1}, Unavailable),
        ({"code": 131056, "count": 1}, Unavailable),
        ({"code": 132015, "count": 1}, Refused),
        ({"not_on_whatsapp": ["201001234567"]}, Refused),
    ],
)
async def test_a_provider_in_trouble_or_a_refusal(
    served: Served, fault: dict[str, Any], expected: type[Exception]
) -> None:
    await admin(served, "POST", "/__sim/faults", fault)
    with pytest.raises(expected) as raised:
        await sender(served.config())(outgoing())
    assert "201001234567" not in str(raised.value)
    assert await admin(served, "GET", "/__sim/messages") == []
    if "count" in fault:  # the next one goes
        await sender(served.config())(outgoing())


async def test_a_wrong_token_waits_for_an_operator_and_is_never_told(served: Served) -> None:
    with pytest.raises(Unavailable) as raised:
        await sender(served.config(token="expired-token"))(outgoing())
    assert "190" in str(raised.value)
    assert "expired-token" not in str(raised.value)


async def test_no_server_is_unavailable(served: Served) -> None:
    config = replace(served.config(), api_url="http://127.0.0.1:9", timeout_seconds=2.0)
    with pytest.raises(Unavailable):
        await sender(config)(outgoing())


async def test_what_meta_would_refuse_is_refused_before_sending(served: Served) -> None:
    with pytest.raises(Refused):
        await sender(served.config())(outgoing("account_exists", "en"))
    with pytest.raises(Refused):
        await sender(served.config())(replace(outgoing(), params={**BOOKING, "price_minor": None}))
    with pytest.raises(Refused):
        await sender(served.config())(replace(outgoing(), address="hany@example.com"))
    assert await admin(served, "GET", "/__sim/messages") == []


async def test_the_simulator_checks_the_template_as_meta_does(served: Served) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    good: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "to": "201001234567",
        "type": "template",
        "template": {"name": "booklnk_registration_code", "language": {"code": "ar"}, "components": []},
    }
    unknown = {**good, "template": {**good["template"], "name": "nope"}}
    wrong_language = {**good, "template": {**good["template"], "language": {"code": "fr"}}}
    async with httpx.AsyncClient(base_url=served.sim.url, headers=headers) as http:
        for body, status, code in [
            (good, 400, 132000),  # the code is missing
            (unknown, 404, 132001),
            (wrong_language, 404, 132001),
            ({**good, "to": "12"}, 400, 131009),
            ({**good, "messaging_product": "sms"}, 400, 100),
        ]:
            answer = await http.post("/v21.0/1/messages", json=body)
            assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), body


async def received(served: Served, count: int) -> list[tuple[bytes, dict[str, str]]]:
    for _ in range(200):
        found = served.receiver.bodies()
        if len(found) >= count:
            return found
        await asyncio.sleep(0.025)
    raise AssertionError(f"{len(served.receiver.bodies())} webhooks of {count}")


async def test_status_webhooks_reach_us_signed_and_carry_our_reference(served: Served) -> None:
    before = len(served.receiver.bodies())
    wamid = await sender(served.config())(outgoing())

    hooks = (await received(served, before + 2))[before:]
    updates = []
    for body, headers in hooks:
        assert verify_signature(SECRET, body, headers.get("x-hub-signature-256"))
        assert not verify_signature("another-secret", body, headers.get("x-hub-signature-256"))
        assert body.isascii()  # Meta escapes non-ASCII; the signature is over these bytes
        updates += parse_statuses(json.loads(body))
    assert [(u.provider_message_id, u.status, u.reference) for u in updates] == [
        (wamid, "sent", "t42/m981"),
        (wamid, "delivered", "t42/m981"),
    ]
    assert [c.body for c in served.state.callbacks()][-2:] == [body for body, _ in hooks]


async def test_an_unreachable_number_is_accepted_then_reported_failed(served: Served) -> None:
    before = len(served.receiver.bodies())
    await admin(served, "POST", "/__sim/faults", {"unreachable": ["+201001234567"]})
    wamid = await sender(served.config())(outgoing())

    [(body, headers)] = (await received(served, before + 1))[before:]
    assert verify_signature(SECRET, body, headers.get("x-hub-signature-256"))
    [update] = parse_statuses(json.loads(body))
    assert (update.provider_message_id, update.status, update.error_code) == (wamid, "failed", 131026)
    [message] = await admin(served, "GET", "/__sim/messages")
    assert message["statuses"] == ["accepted", "failed"]


async def test_a_customers_message_is_a_signed_webhook_with_no_status(served: Served) -> None:
    before = len(served.receiver.bodies())
    await admin(served, "POST", "/__sim/inbound", {"from": "201001234567", "text": "شكرًا"})
    [(body, headers)] = (await received(served, before + 1))[before:]
    assert verify_signature(SECRET, body, headers.get("x-hub-signature-256"))
    assert parse_statuses(json.loads(body)) == []
    assert json.loads(body)["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] == "شكرًا"


async def test_a_malformed_fault_is_refused_whole(served: Served) -> None:
    async with httpx.AsyncClient(base_url=served.sim.url) as http:
        faults: list[dict[str, Any]] = [
            {"status": 200},
            {"code": "x"},
            {"count": -1},
            {"unreachable": "2010"},
        ]
        for fault in faults:
            answer = await http.post("/__sim/faults", json={"not_on_whatsapp": ["201001234567"], **fault})
            assert answer.status_code == 400, fault
    assert (await admin(served, "GET", "/__sim/faults"))["not_on_whatsapp"] == []
    await sender(served.config())(outgoing())
