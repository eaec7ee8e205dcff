"""Kashier over HTTP: the hosted payment page URL, order lookup (§5) and refunds (§6).

Answers become small typed results; only transport trouble raises. Neither key is ever
logged or put in an exception message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from booklnk.kernel.money import MINOR_UNITS
from booklnk.payments.kashier.config import KashierConfig
from booklnk.payments.kashier.signing import format_amount, order_hash


class KashierError(Exception):
    """Kashier could not be asked or did not answer in a form we understand."""


class KashierTimeout(KashierError):
    """No answer within the configured timeout: the outcome is unknown (look it up later)."""


class KashierUnavailable(KashierError):
    """Connection failure, a 5xx, or an answer that is not Kashier's JSON."""


class KashierUnauthorized(KashierError):
    """Kashier refused our Secret key (401/403): a configuration problem, not a retry."""


def hosted_page_url(
    config: KashierConfig,
    order_id: str,
    amount_minor: int,
    currency: str,
    allowed_methods: Sequence[str],
    redirect_url: str,
    webhook_url: str,
    *,
    failure_redirect: bool | None = None,
    redirect_method: str = "get",
    display: str = "en",
    meta_data: Mapping[str, Any] | None = None,
) -> str:
    """The URL that sends a customer to Kashier's hosted payment page (§1).

    ``order_id`` must be unique per payment attempt; the amount goes out with all its
    decimals and the hash covers exactly that string."""
    amount = format_amount(amount_minor, currency)
    params: list[tuple[str, str]] = [
        ("merchantId", config.mid),
        ("orderId", order_id),
        ("amount", amount),
        ("currency", currency),
        ("hash", order_hash(config.api_key.get_secret_value(), config.mid, order_id, amount, currency)),
        ("mode", config.mode),
        ("merchantRedirect", redirect_url),
        ("serverWebhook", webhook_url),
        ("allowedMethods", ",".join(allowed_methods)),
        ("redirectMethod", redirect_method),
        ("display", display),
    ]
    if failure_redirect is not None:
        # A flag, not a URL (PROTOCOL.md §10): false keeps a failed payer on Kashier's page.
        params.append(("failureRedirect", "true" if failure_redirect else "false"))
    if meta_data is not None:
        params.append(("metaData", json.dumps(meta_data, separators=(",", ":"))))
    return f"{config.hpp_url.rstrip('/')}/?{urlencode(params, quote_via=quote)}"


def minor_from_major(value: Any, currency: str) -> int:
    """A JSON number (or numeric string) in major units as integer minor units, exactly:
    through the number's decimal text, never float arithmetic."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"not an amount: {value!r}")
    try:
        scaled = Decimal(str(value)).scaleb(MINOR_UNITS[currency])
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    if not scaled.is_finite() or scaled != scaled.to_integral_value():
        raise ValueError(f"not a whole number of minor units: {value!r}")
    return int(scaled)


def minor_from_total(value: Any, currency: str) -> int:
    """A total Kashier computed (lookup totals arrive as JSON floats carrying float noise,
    `30.299999999999997`): its decimal text rounded half up to the currency's minor unit,
    explicitly. Only for totals and lookup amounts: a signed webhook amount stays exact."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"not an amount: {value!r}")
    try:
        exact = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    if not exact.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return int(exact.scaleb(MINOR_UNITS[currency]).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def major_number(amount_minor: int, currency: str) -> int | float:
    """Minor units as the JSON number Kashier expects (50.0 EGP for 5000 piasters)."""
    exp = MINOR_UNITS[currency]
    whole, frac = divmod(amount_minor, 10**exp)
    return whole if frac == 0 else float(Decimal(amount_minor).scaleb(-exp))


@dataclass(frozen=True, slots=True)
class Transaction:
    transaction_id: str
    operation: str  # "pay" | "refund"
    status: str  # "SUCCESS" | "FAILURE" | "PENDING"
    amount_minor: int
    currency: str
    request_date: str | None
    response_date: str | None


@dataclass(frozen=True, slots=True)
class OrderFound:
    merchant_order_id: str
    kashier_order_id: str
    status: str  # "CAPTURED" | "FAILED" | "PENDING" …
    method: str | None
    currency: str
    order_amount_minor: int
    captured_minor: int
    refunded_minor: int
    transactions: tuple[Transaction, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class OrderNotFound:
    """Kashier does not know this order id (200 with top-level status FAILURE)."""

    merchant_order_id: str
    message: str


OrderLookup = OrderFound | OrderNotFound


@dataclass(frozen=True, slots=True)
class RefundAccepted:
    transaction_id: str
    raw: Mapping[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class RefundPending:
    """Kashier took the refund but has not done it yet: neither accepted-and-settled nor
    refused; its `refund` webhook (or a lookup) settles it."""

    transaction_id: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class RefundRefused:
    """Kashier answered and said no (over the captured amount, unknown order, …)."""

    message: str
    raw: Mapping[str, Any] = field(repr=False, compare=False)


RefundResult = RefundAccepted | RefundPending | RefundRefused
_PENDING = frozenset({"PENDING", "PENDING_ACTION"})
_DONE = frozenset({"SUCCESS", "REFUNDED"})


class KashierClient:
    """Async client for the lookup and refund APIs. Owns its httpx client unless given one."""

    def __init__(self, config: KashierConfig, *, http: httpx.AsyncClient | None = None) -> None:
        self._config = config
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=config.timeout_seconds)

    def __repr__(self) -> str:
        return f"KashierClient(mid={self._config.mid!r}, mode={self._config.mode!r})"

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> KashierClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def lookup_order(self, merchant_order_id: str) -> OrderLookup:
        """``GET {api}/payments/orders/{merchantOrderId}`` (§5)."""
        url = f"{self._config.api_url.rstrip('/')}/payments/orders/{quote(merchant_order_id, safe='')}"
        body = await self._call("GET", url, None)
        if body.get("status") != "SUCCESS" or not isinstance(body.get("response"), Mapping):
            return OrderNotFound(merchant_order_id, _message(body))
        try:
            return _order_found(merchant_order_id, body["response"])
        except (ValueError, KeyError, TypeError, AttributeError):
            # An amount or currency we cannot read: an answer we do not understand.
            raise KashierUnavailable(f"GET {url}: an order we cannot read") from None

    async def refund(
        self, merchant_order_id: str, amount_minor: int, currency: str, *, reason: str = "refund"
    ) -> RefundResult:
        """``PUT {fep}/v3/orders/{merchantOrderId}`` (§6). Not idempotent at Kashier: the
        caller records its intent first and, if this raises, looks the order up before any
        second call."""
        if amount_minor <= 0:
            raise ValueError("refund amount must be positive")
        url = f"{self._config.fep_url.rstrip('/')}/v3/orders/{quote(merchant_order_id, safe='')}"
        payload = {
            "apiOperation": "REFUND",
            "reason": reason,
            "transaction": {"amount": major_number(amount_minor, currency), "currency": currency},
        }
        return _refund_result(await self._call("PUT", url, payload))

    async def _call(self, method: str, url: str, payload: Mapping[str, Any] | None) -> Mapping[str, Any]:
        headers = {"Authorization": self._config.secret_key.get_secret_value(), "Accept": "application/json"}
        try:
            response = await self._http.request(
                method, url, headers=headers, json=payload, timeout=self._config.timeout_seconds
            )
        except httpx.TimeoutException as exc:
            raise KashierTimeout(f"{method} {url}: no answer within {self._config.timeout_seconds}s") from exc
        except httpx.HTTPError as exc:
            raise KashierUnavailable(f"{method} {url}: {type(exc).__name__}") from exc
        if response.status_code in (401, 403):
            raise KashierUnauthorized(f"{method} {url}: {response.status_code}")
        if response.status_code >= 500:
            raise KashierUnavailable(f"{method} {url}: {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise KashierUnavailable(f"{method} {url}: {response.status_code}, not JSON") from None
        if not isinstance(body, Mapping):
            raise KashierUnavailable(f"{method} {url}: {response.status_code}, not a JSON object")
        # A 4xx with Kashier's FAILURE body is an answer (e.g. refund over the captured amount).
        return body


def _refund_result(body: Mapping[str, Any]) -> RefundResult:
    """A refund's answer read as Kashier's own code reads it (PROTOCOL.md §8): its plugin's
    `response.result` (SUCCESS, or PENDING / PENDING_ACTION), an older `response.status`
    SUCCESS, a third party's `response.status` REFUNDED; a top-level `status` SUCCESS with
    nothing else said. A pending word anywhere wins: money not yet gone is not settled."""
    response = body.get("response")
    inner: Mapping[str, Any] = response if isinstance(response, Mapping) else {}
    marks = {inner.get("result"), inner.get("status")}
    raw_id = inner.get("transactionId")
    transaction_id = raw_id if isinstance(raw_id, str) and raw_id else None
    if marks & _PENDING:
        return RefundPending(transaction_id, body)
    done = bool(marks & _DONE) or (body.get("status") == "SUCCESS" and marks <= {None})
    if done and transaction_id is not None:
        return RefundAccepted(transaction_id, body)
    return RefundRefused(_message(body), body)


def _message(body: Mapping[str, Any]) -> str:
    for key in ("messages", "message", "error"):
        value = body.get(key)
        if isinstance(value, Mapping) and isinstance(value.get("en"), str):
            return str(value["en"])
        if isinstance(value, str):
            return value
    return str(body.get("status", "no status"))


def _order_found(merchant_order_id: str, response: Mapping[str, Any]) -> OrderFound:
    raw_order = response.get("order")
    order: Mapping[str, Any] = raw_order if isinstance(raw_order, Mapping) else {}
    currency = str(order.get("currency") or response.get("currency") or "EGP")
    transactions = tuple(
        Transaction(
            transaction_id=str(t.get("transactionId", "")),
            operation=str(t.get("operation", "")),
            status=str(t.get("status", "")),
            amount_minor=minor_from_total(t.get("amount", 0), str(t.get("currency") or currency)),
            currency=str(t.get("currency") or currency),
            request_date=t.get("requestDate"),
            response_date=t.get("responseDate"),
        )
        for t in response.get("transactions") or ()
        if isinstance(t, Mapping)
    )
    return OrderFound(
        merchant_order_id=str(response.get("merchantOrderId", merchant_order_id)),
        kashier_order_id=str(response.get("orderId", "")),
        status=str(response.get("status", "")),
        method=response.get("method"),
        currency=currency,
        order_amount_minor=minor_from_total(order.get("amount", 0), currency),
        captured_minor=minor_from_total(response.get("totalCapturedAmount", 0), currency),
        refunded_minor=minor_from_total(response.get("totalRefundedAmount", 0), currency),
        transactions=transactions,
        raw=response,
    )
