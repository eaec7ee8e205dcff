"""Kashier's hashes and signatures: the published vectors, the JavaScript-compatible
canonical form of webhooks, and every reason a webhook is refused."""

from __future__ import annotations

import math
import struct
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booklnk.payments.kashier.client import hosted_page_url, major_number, minor_from_major
from booklnk.payments.kashier.config import KashierConfig
from booklnk.payments.kashier.signing import (
    REDIRECT_FIELDS,
    WebhookCheck,
    check_webhook,
    format_amount,
    js_number,
    order_hash,
    parse_amount,
    redirect_payload,
    redirect_signature,
    strict_encode,
    verify_redirect,
    verify_webhook,
    webhook_payload,
    webhook_signature,
)

DOC_KEY = "kashier-doc-sample-key"
DOC_PAYLOAD = (
    "amount=11334&channel=online%20%7C%20e-commerce&currency=EGP"
    "&kashierOrderId=efb3d440-e3bf-4c86-b98e-c7bb1cbbcca1&merchantOrderId=1642935044835"
    "&method=card&orderReference=TEST-ORD-33581&status=SUCCESS&transactionId=TX-249893122"
    "&transactionResponseCode=00"
)
DOC_SIGNATURE = "9b618fe7c05b33e3b6cfae86734128271b572aaea184fae23f153aa7f3c832b0"
SIGNATURE_KEYS = [
    "amount",
    "channel",
    "currency",
    "kashierOrderId",
    "merchantOrderId",
    "method",
    "orderReference",
    "status",
    "transactionId",
    "transactionResponseCode",
]


def doc_webhook() -> dict[str, Any]:
    """PROTOCOL.md §3's example body, with unsigned fields a real one carries."""
    return {
        "merchantOrderId": "1642935044835",
        "kashierOrderId": "efb3d440-e3bf-4c86-b98e-c7bb1cbbcca1",
        "orderReference": "TEST-ORD-33581",
        "transactionId": "TX-249893122",
        "status": "SUCCESS",
        "method": "card",
        "creationDate": "2022-01-23T10:50:44.835Z",
        "amount": 11334,
        "currency": "EGP",
        "card": {
            "cardInfo": {"cardHolderName": "John", "cardBrand": "Visa", "maskedCard": "450875******1019"}
        },
        "transactionResponseCode": "00",
        "transactionResponseMessage": {"en": "Approved", "ar": "تمت"},
        "channel": "online | e-commerce",
        "metaData": {"booking": "42"},
        "signatureKeys": list(reversed(SIGNATURE_KEYS)),
    }


# --- published vectors ----------------------------------------------------------------------


def test_order_hash_reproduces_kashiers_vector() -> None:
    expected = "606a8a1307d64caf4e2e9bb724738f115a8972c27eccb2a8acd9194c357e4bec"
    assert order_hash("11111", "mid-0-1", "99", "20", "EGP") == expected


def test_order_hash_covers_the_amount_string_as_sent() -> None:
    assert order_hash("11111", "mid-0-1", "99", "20.00", "EGP") != order_hash(
        "11111", "mid-0-1", "99", "20", "EGP"
    )


def test_webhook_reproduces_the_published_payload_and_signature() -> None:
    data = doc_webhook()
    assert webhook_payload(data) == DOC_PAYLOAD
    assert webhook_signature(DOC_KEY, data) == DOC_SIGNATURE
    assert check_webhook(DOC_KEY, data, DOC_SIGNATURE) is WebhookCheck.OK
    assert verify_webhook(DOC_KEY, data, DOC_SIGNATURE.upper())


def test_a_float_amount_signs_like_the_integer_javascript_would_print() -> None:
    # JSON "11334.0" parses as a float in Python but prints "11334" in Node.
    assert webhook_signature(DOC_KEY, {**doc_webhook(), "amount": 11334.0}) == DOC_SIGNATURE


# --- webhook refusals -------------------------------------------------------------------------


def test_missing_signature_is_refused() -> None:
    assert check_webhook(DOC_KEY, doc_webhook(), None) is WebhookCheck.MISSING_SIGNATURE
    assert check_webhook(DOC_KEY, doc_webhook(), "") is WebhookCheck.MISSING_SIGNATURE


@pytest.mark.parametrize("dropped", ["merchantOrderId", "transactionId", "status", "amount", "currency"])
def test_too_few_signed_keys_is_refused_even_when_correctly_signed(dropped: str) -> None:
    data = doc_webhook()
    data["signatureKeys"] = [k for k in SIGNATURE_KEYS if k != dropped]
    signature = webhook_signature(DOC_KEY, data)
    assert check_webhook(DOC_KEY, data, signature) is WebhookCheck.TOO_FEW_SIGNED_KEYS


def test_a_listed_key_absent_from_data_is_not_signed() -> None:
    data = doc_webhook()
    del data["status"]
    assert "status=" not in webhook_payload(data)
    assert check_webhook(DOC_KEY, data, webhook_signature(DOC_KEY, data)) is WebhookCheck.TOO_FEW_SIGNED_KEYS


def test_no_signature_keys_at_all_is_refused() -> None:
    data = doc_webhook()
    del data["signatureKeys"]
    assert webhook_payload(data) == ""
    assert check_webhook(DOC_KEY, data, webhook_signature(DOC_KEY, data)) is WebhookCheck.TOO_FEW_SIGNED_KEYS


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount", 11335), ("status", "FAILURE"), ("merchantOrderId", "1642935044836"), ("currency", "USD")],
)
def test_a_changed_signed_field_is_a_mismatch(field: str, value: Any) -> None:
    data = {**doc_webhook(), field: value}
    assert check_webhook(DOC_KEY, data, DOC_SIGNATURE) is WebhookCheck.MISMATCH


def test_unsigned_fields_do_not_change_the_signature() -> None:
    data = {**doc_webhook(), "metaData": {"booking": "other"}, "creationDate": "tampered"}
    assert verify_webhook(DOC_KEY, data, DOC_SIGNATURE)


def test_wrong_key_and_garbage_signatures_are_mismatches() -> None:
    assert check_webhook("another-key", doc_webhook(), DOC_SIGNATURE) is WebhookCheck.MISMATCH
    assert check_webhook(DOC_KEY, doc_webhook(), "zzz") is WebhookCheck.MISMATCH
    assert check_webhook(DOC_KEY, doc_webhook(), "é" * 64) is WebhookCheck.MISMATCH


def test_an_unrenderable_signed_value_is_malformed() -> None:
    data = {**doc_webhook(), "channel": 3j}
    assert check_webhook(DOC_KEY, data, DOC_SIGNATURE) is WebhookCheck.MALFORMED


def test_duplicate_signature_keys_sign_once() -> None:
    data = {**doc_webhook(), "signatureKeys": [*SIGNATURE_KEYS, "amount", "status"]}
    assert webhook_payload(data) == DOC_PAYLOAD


# --- canonical form ----------------------------------------------------------------------------


def test_values_render_as_javascript_would() -> None:
    data = {
        "a": None,
        "b": "",
        "c": True,
        "d": False,
        "e": 100.0,
        "f": 100.50,
        "g": "it's (a) *test*!",
        "h": ["x", None, 2],
        "signatureKeys": ["h", "g", "f", "e", "d", "c", "b", "a"],
    }
    assert (
        webhook_payload(data)
        == "a&b=&c=true&d=false&e=100&f=100.5&g=it%27s%20%28a%29%20%2Atest%2A%21&h=x&h&h=2"
    )


def test_keys_sort_by_code_point_and_are_encoded() -> None:
    data = {"b": "1", "B": "2", "ä": "3", "a b": "4", "signatureKeys": ["b", "ä", "B", "a b"]}
    assert webhook_payload(data) == "B=2&a%20b=4&b=1&%C3%A4=3"


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"])))
def test_strict_encode_is_rfc3986_strict(text: str) -> None:
    assert strict_encode(text) == quote(text, safe="-_.~")


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        (100.0, "100"),
        (100.50, "100.5"),
        (0.1 + 0.2, "0.30000000000000004"),
        (-0.0, "0"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1.5e-7, "1.5e-7"),
        (0.000001, "0.000001"),
        (123e-20, "1.23e-18"),
        (5e-324, "5e-324"),
        (-2.5, "-2.5"),
        (2**53 + 2, "9007199254740994"),
        (12345678901234567890, "12345678901234567000"),
        (float("inf"), "Infinity"),
        (float("nan"), "NaN"),
    ],
)
def test_js_number_examples(value: float, rendered: str) -> None:
    assert js_number(value) == rendered


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_js_number_round_trips_without_trailing_zero(value: float) -> None:
    text = js_number(value)
    assert float(text) == value or (value == 0 and text == "0")
    mantissa = text.split("e")[0]
    assert not mantissa.endswith(".0")
    assert not ("." in mantissa and mantissa.endswith("0"))


@given(st.floats(min_value=1e-6, max_value=1e21, exclude_max=True))
def test_js_number_is_positional_in_javascripts_range(value: float) -> None:
    text = js_number(value)
    assert "e" not in text
    assert Decimal(text) == Decimal(repr(value))


def test_js_number_of_an_integer_beyond_every_double_is_infinity() -> None:
    assert (js_number(10**400), js_number(-(10**400))) == ("Infinity", "-Infinity")


@given(st.integers(min_value=0, max_value=2**64))
def test_js_number_of_an_integer_matches_its_double(value: int) -> None:
    # A JSON integer becomes a double in Node; the bit pattern shows which one.
    assert struct.pack("<d", float(js_number(value))) == struct.pack("<d", float(value))


# --- amounts --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("minor", "text"), [(15000, "150.00"), (0, "0.00"), (5, "0.05"), (12345, "123.45")])
def test_format_amount_always_has_two_decimals(minor: int, text: str) -> None:
    assert format_amount(minor) == text


def test_format_amount_follows_the_currency_exponent() -> None:
    assert format_amount(1500, "KWD") == "1.500"


def test_format_amount_refuses_negatives_and_non_integers() -> None:
    with pytest.raises(ValueError, match="negative"):
        format_amount(-1)
    with pytest.raises(TypeError):
        format_amount(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        format_amount(True)


@given(st.integers(min_value=0, max_value=10**12))
def test_amount_strings_round_trip(minor: int) -> None:
    assert parse_amount(format_amount(minor)) == minor
    assert minor_from_major(major_number(minor, "EGP"), "EGP") == minor


@pytest.mark.parametrize(
    "bad", ["", "1.001", "-5", "1e3", "1,00", " . ", "\u0661\u0660", " 1.00", "1.", ".5"]
)
def test_parse_amount_refuses_anything_but_plain_decimals(bad: str) -> None:
    with pytest.raises(ValueError, match=r"amount|decimals"):
        parse_amount(bad)


# --- redirect --------------------------------------------------------------------------------------


def redirect_params() -> dict[str, str]:
    return {
        "paymentStatus": "SUCCESS",
        "cardDataToken": "",
        "maskedCard": "511111******1118",
        "merchantOrderId": "bk-1",
        "orderId": "efb3d440",
        "cardBrand": "Mastercard",
        "orderReference": "TEST-ORD-1",
        "transactionId": "TX-1",
        "amount": "150.00",
        "currency": "EGP",
    }


def test_redirect_signature_covers_the_ten_fields_in_order_as_received() -> None:
    params = redirect_params()
    assert redirect_payload(params) == "&".join(f"{k}={params[k]}" for k in REDIRECT_FIELDS)
    # The shop's own query parameters, mode and the signature itself are not signed.
    signed = {"booking": "42", **params, "mode": "test", "signature": redirect_signature("k", params)}
    assert verify_redirect("k", signed)
    assert not verify_redirect("k", {**signed, "amount": "1.00"})
    assert not verify_redirect("other", signed)
    assert not verify_redirect("k", params)


def test_redirect_values_are_not_reencoded() -> None:
    params = {**redirect_params(), "cardBrand": "Master Card & co"}
    assert "cardBrand=Master Card & co&" in redirect_payload(params)


# --- config and the hosted page URL ----------------------------------------------------------------


def test_config_keeps_keys_out_of_repr() -> None:
    config = KashierConfig.create(mid="MID-1", api_key="api-KEY-123", secret_key="sec$ret-456")
    assert "api-KEY-123" not in repr(config)
    assert "sec$ret-456" not in repr(config)
    assert config.api_url == "https://test-api.kashier.io"
    live = KashierConfig.create(mid="MID-1", api_key="a", secret_key="b", mode="live")
    assert (live.api_url, live.fep_url) == ("https://api.kashier.io", "https://fep.kashier.io")


def test_hosted_page_url_carries_the_hash_over_the_two_decimal_amount() -> None:
    config = KashierConfig.create(mid="MID-1", api_key="key", secret_key="s", hpp_url="http://sim.local")
    url = hosted_page_url(
        config,
        "bk-7",
        15050,
        "EGP",
        ["card", "fawry"],
        "http://shop/r?x=1",
        "http://shop/hook",
        meta_data={"b": 1},
    )
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query))
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "sim.local", "/")
    assert params["amount"] == "150.50"
    assert params["hash"] == order_hash("key", "MID-1", "bk-7", "150.50", "EGP")
    assert params["allowedMethods"] == "card,fawry"
    assert params["merchantRedirect"] == "http://shop/r?x=1"
    assert params["mode"] == "test"
    assert params["metaData"] == '{"b":1}'


def test_major_number_is_a_whole_json_number_when_it_can_be() -> None:
    assert major_number(5000, "EGP") == 50
    assert isinstance(major_number(5000, "EGP"), int)
    assert major_number(5050, "EGP") == 50.5
    assert math.isclose(major_number(1, "EGP"), 0.01)
