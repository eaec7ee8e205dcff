"""The WhatsApp channel's pure parts: the template table, the request body, the webhook
signature, the subscription handshake and the status reports."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booklnk.notifications.channel import Outgoing
from booklnk.notifications.rendering import LANGUAGES, render
from booklnk.notifications.whatsapp import (
    LANGUAGE_CODES,
    TEMPLATES,
    StatusUpdate,
    WhatsAppConfig,
    parse_statuses,
    subscription_challenge,
    template_payload,
    verify_signature,
)

TEMPLATE_FILES = Path(__file__).parents[2] / "src/booklnk/notifications/templates"
BOOKING = {
    "name": "Hany & Sons",
    "service": "Cut",
    "business": "Cairo Cuts",
    "starts_at": "2026-11-26T08:00:00+00:00",
    "time_zone": "Africa/Cairo",
    "price_minor": 15_000,
    "currency": "EGP",
    "until": "2026-11-24T09:15:00+00:00",
    "amount_minor": 7_500,
    "pay_url": "https://book.example.com/v1/pay/token",
}
SECRET = "app-secret"
CONFIG = WhatsAppConfig(phone_number_id="1001", access_token="t", app_secret=SECRET, verify_token="vt")


def outgoing(
    template: str, language: str, params: dict[str, Any], address: str = "+201001234567"
) -> Outgoing:
    return Outgoing(
        key="k1",
        address=address,
        template=template,
        language=language,
        params=params,
        rendered=render(template, language, params),
        reference="t42/m981",
    )


def signed(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --- the table ---


def test_every_booking_and_code_template_has_a_twin_at_meta_and_back() -> None:
    stems = {p.name.split(".")[0] for p in TEMPLATE_FILES.glob("*.jinja") if not p.name.startswith("_")}
    # Every message about a booking or carrying a code; notices about an account (and to an
    # owner about a webhook endpoint) go by e-mail.
    ours = stems - {
        "account_exists",
        "password_changed",
        "password_reset_no_account",
        "phone_removed",
        "staff_invitation",
        "webhook_endpoint_disabled",
    }
    assert set(TEMPLATES) == ours
    for name in TEMPLATES:
        for language in LANGUAGES:
            assert (TEMPLATE_FILES / f"{name}.{language}.jinja").exists(), (name, language)


@pytest.mark.parametrize("ours", sorted(TEMPLATES))
def test_each_twin_is_one_meta_would_approve(ours: str) -> None:
    template = TEMPLATES[ours]
    assert re.fullmatch(r"[a-z0-9_]{1,512}", template.name)
    assert set(template.text) == set(LANGUAGE_CODES.values())
    for text in template.text.values():
        blanks = re.findall(r"\{\{(\w+)\}\}", text)
        if template.category == "AUTHENTICATION":
            assert template.parameters == ("code",)
            assert blanks == ["1"]
        else:
            assert template.category == "UTILITY"
            assert all(re.fullmatch(r"[a-z_]+", name) for name in template.parameters)
            assert blanks == list(template.parameters)
            assert not text.rstrip().endswith("}}"), "Meta refuses a body ending with a blank"
    assert len({t.name for t in TEMPLATES.values()}) == len(TEMPLATES)


# --- the request body ---


def test_an_arabic_booking_confirmation_as_meta_takes_it() -> None:
    payload = template_payload(outgoing("booking_confirmed", "ar", BOOKING))
    assert payload == {
        "messaging_product": "whatsapp",
        "to": "201001234567",
        "type": "template",
        "biz_opaque_callback_data": "t42/m981",
        "template": {
            "name": "booklnk_booking_confirmed",
            "language": {"code": "ar"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {
                            "type": "text",
                            "parameter_name": "customer_name",
                            "text": "\u2068Hany & Sons\u2069",
                        },
                        {"type": "text", "parameter_name": "service", "text": "\u2068Cut\u2069"},
                        {"type": "text", "parameter_name": "business", "text": "\u2068Cairo Cuts\u2069"},
                        {"type": "text", "parameter_name": "date", "text": "الخميس، 26 نوفمبر"},
                        {"type": "text", "parameter_name": "time", "text": "10:00 ص"},
                        {"type": "text", "parameter_name": "price", "text": "\u200f150.00\xa0ج.م.\u200f"},
                    ],
                }
            ],
        },
    }


def values(payload: dict[str, Any]) -> dict[str, str]:
    return {p["parameter_name"]: p["text"] for p in payload["template"]["components"][0]["parameters"]}


def test_english_values_in_english_and_at_the_local_time() -> None:
    payload = template_payload(outgoing("booking_reminder", "en", BOOKING))
    assert payload["template"]["language"] == {"code": "en_US"}
    assert values(payload) == {
        "customer_name": "\u2068Hany & Sons\u2069",
        "service": "\u2068Cut\u2069",
        "business": "\u2068Cairo Cuts\u2069",
        "date": "Thu, Nov 26",
        "time": "10:00\u202fAM",  # 08:00 UTC is 10:00 in Cairo in November
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_values_are_written_as_the_templates_write_them(language: str) -> None:
    """The same Babel rules as rendering.py's filters: each value is in the text message
    (whose spaces, no-break ones too, are made plain)."""
    short = render("booking_confirmed", language, BOOKING).short
    found = values(template_payload(outgoing("booking_confirmed", language, BOOKING)))
    for name in ("date", "time", "price"):
        assert " ".join(found[name].split()) in short, (name, found[name], short)


@pytest.mark.parametrize("template", ["registration_code", "password_reset_code"])
def test_a_code_goes_in_the_body_and_in_the_copy_code_button(template: str) -> None:
    params = {"code": "048213", "minutes": 15, "name": "Hany"}
    payload = template_payload(outgoing(template, "ar", params))
    assert payload["template"]["components"] == [
        {"type": "body", "parameters": [{"type": "text", "text": "048213"}]},
        {"type": "button", "sub_type": "url", "index": 0, "parameters": [{"type": "text", "text": "048213"}]},
    ]


def test_new_lines_and_runs_of_spaces_are_flattened_for_meta() -> None:
    found = values(template_payload(outgoing("booking_cancelled", "en", {**BOOKING, "name": "Hany\n\tSons"})))
    assert found["customer_name"] == "\u2068Hany  Sons\u2069"


@pytest.mark.parametrize(
    ("template", "params", "address", "error"),
    [
        ("account_exists", {"name": "Hany"}, "+201001234567", ValueError),  # e-mail only
        ("booking_confirmed", BOOKING, "hany@example.com", ValueError),
        ("booking_confirmed", BOOKING, "+2010", ValueError),
        ("booking_confirmed", {**BOOKING, "price_minor": None}, "+201001234567", TypeError),
    ],
)
def test_what_cannot_go_by_whatsapp_is_an_error(
    template: str, params: dict[str, Any], address: str, error: type[Exception]
) -> None:
    message = Outgoing(
        "k", address, template, "en", params, render("account_exists", "en", {"name": "x"}), "r"
    )
    with pytest.raises(error):
        template_payload(message)
    with pytest.raises(KeyError):
        template_payload(Outgoing("k", "+201001234567", "booking_confirmed", "en", {}, message.rendered, "r"))


# --- the webhook signature and handshake ---


@given(st.binary(max_size=2048))
def test_a_signature_over_the_exact_bytes_is_accepted(body: bytes) -> None:
    assert verify_signature(SECRET, body, signed(body))
    assert verify_signature(SECRET, body, signed(body).upper().replace("SHA256=", "sha256="))
    assert not verify_signature(SECRET, body + b" ", signed(body))
    assert not verify_signature(SECRET, body, signed(body, "another-secret"))


@pytest.mark.parametrize(
    "header",
    [None, "", "sha256=", "sha1=" + "0" * 40, signed(b"{}")[7:], "sha256=" + "g" * 64, signed(b"{}") + "0"],
)
def test_a_missing_or_malformed_signature_is_refused(header: str | None) -> None:
    assert not verify_signature(SECRET, b"{}", header)


@given(st.text(max_size=200))
def test_any_header_text_is_answered_never_raised_on(header: str) -> None:
    assert verify_signature(SECRET, b"{}", header) is False


def test_the_subscription_handshake_echoes_the_challenge_for_the_right_token_only() -> None:
    assert subscription_challenge(CONFIG, "subscribe", "vt", "1158201444") == "1158201444"
    assert subscription_challenge(CONFIG, "subscribe", "wrong", "1158201444") is None
    assert subscription_challenge(CONFIG, "subscribe", "وت", "1") is None
    assert subscription_challenge(CONFIG, "unsubscribe", "vt", "1") is None
    assert subscription_challenge(CONFIG, None, None, None) is None
    assert subscription_challenge(CONFIG, "subscribe", "vt", "x" * 10_000) is None


# --- status reports ---

BRIEF_SAMPLE = {
    "object": "whatsapp_business_account",
    "entry": [
        {
            "id": "WABA",
            "changes": [
                {
                    "field": "messages",
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {"phone_number_id": "1001"},
                        "statuses": [
                            {
                                "id": "wamid.HBgL",
                                "status": "failed",
                                "timestamp": "1698266945",
                                "recipient_id": "201001234567",
                                "biz_opaque_callback_data": "t42/b981",
                                "pricing": {"pricing_model": "PMP", "category": "utility"},
                                "errors": [{"code": 131047, "title": "Re-engagement message"}],
                            },
                            {"id": "wamid.X", "status": "read", "timestamp": "1698266946"},
                        ],
                        "messages": [{"from": "201001234567", "id": "wamid.in", "type": "text"}],
                    },
                }
            ],
        }
    ],
}


def test_the_briefs_sample_is_read() -> None:
    assert parse_statuses(BRIEF_SAMPLE) == [
        StatusUpdate(
            "wamid.HBgL", "failed", datetime(2023, 10, 25, 20, 49, 5, tzinfo=UTC), "t42/b981", 131047
        ),
        StatusUpdate("wamid.X", "read", datetime(2023, 10, 25, 20, 49, 6, tzinfo=UTC), None, None),
    ]


def test_inbound_messages_other_objects_and_odd_statuses_are_skipped() -> None:
    value = BRIEF_SAMPLE["entry"][0]["changes"][0]["value"]  # type: ignore[index]
    inbound = {
        **BRIEF_SAMPLE,
        "entry": [{"changes": [{"field": "messages", "value": {**value, "statuses": []}}]}],
    }
    assert parse_statuses(inbound) == []
    assert parse_statuses({**BRIEF_SAMPLE, "object": "page"}) == []
    odd = [
        {"id": "wamid.1", "status": "deleted", "timestamp": "1"},
        {"id": "", "status": "sent", "timestamp": "1"},
        {"id": "wamid.2", "status": "sent", "timestamp": "-1"},
        {"id": "wamid.3", "status": "sent", "timestamp": "99999999999999999999"},
        {"id": "wamid.4", "status": "sent", "timestamp": 1698266945},
        {"id": "wamid.5", "status": "sent", "timestamp": "١٢"},  # Arabic-Indic digits: not Meta's
        {"id": "wamid.6", "status": "sent", "timestamp": "1", "errors": [{"code": True}]},
    ]
    hostile = {**BRIEF_SAMPLE, "entry": [{"changes": [{"value": {"statuses": odd}}]}]}
    assert [u.provider_message_id for u in parse_statuses(hostile)] == ["wamid.6"]
    assert parse_statuses(hostile)[0].error_code is None


def test_a_flood_of_statuses_is_read_only_so_far() -> None:
    many = [{"id": f"wamid.{i}", "status": "sent", "timestamp": "1"} for i in range(10_000)]
    flood = {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"statuses": many}}]}]}
    assert len(parse_statuses(flood)) == 100


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=30,
)
KEYS = st.sampled_from(
    ["object", "entry", "changes", "value", "statuses", "id", "status", "timestamp", "errors", "code"]
)
SHAPED = st.recursive(
    st.none() | st.integers() | st.text(max_size=12) | st.sampled_from(["sent", "whatsapp_business_account"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=40,
)


@given(st.dictionaries(st.text(max_size=10), JSON, max_size=5) | st.dictionaries(KEYS, SHAPED, max_size=5))
def test_hostile_shapes_never_raise(payload: dict[str, Any]) -> None:
    payload = {"object": "whatsapp_business_account", **payload} if "entry" in payload else payload
    found = parse_statuses(json.loads(json.dumps(payload)))
    assert all(isinstance(u, StatusUpdate) for u in found)
