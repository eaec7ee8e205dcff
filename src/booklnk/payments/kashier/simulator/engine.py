"""The simulated gateway's state and use cases, apart from HTTP: orders registered by the
hosted page, payments, Fawry settlement, refunds, lookups, and the webhooks they emit.

State lives in memory: it is a simulator. Every refusal raises ``SimError`` with the HTTP
status the real gateway would answer.
"""

from __future__ import annotations

import hmac
import json
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from booklnk.kernel.money import MINOR_UNITS
from booklnk.payments.kashier.client import major_number, minor_from_major
from booklnk.payments.kashier.signing import format_amount, order_hash, parse_amount, signed_redirect_query
from booklnk.payments.kashier.simulator.cards import CardOutcome, card_brand, card_outcome, mask
from booklnk.payments.kashier.simulator.outbox import Outbox
from booklnk.payments.kashier.simulator.settings import Faults, SimulatorSettings

CHANNEL = "online | e-commerce"
# The keys Kashier lists in data.signatureKeys (PROTOCOL.md §3), already sorted.
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
METHODS = ("card", "wallet", "fawry")


class SimError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(slots=True)
class SimTransaction:
    transaction_id: str
    operation: str  # "pay" | "refund"
    status: str  # "SUCCESS" | "FAILURE" | "PENDING"
    method: str
    amount_minor: int
    response_code: str
    response_message: str
    request_date: str = field(default_factory=_now)
    response_date: str | None = None
    card: dict[str, Any] | None = None
    fawry_reference: str | None = None


@dataclass(slots=True)
class SimOrder:
    merchant_order_id: str
    kashier_order_id: str
    order_reference: str
    amount: str  # exactly as received on the hosted page
    amount_minor: int
    currency: str
    mode: str
    redirect_url: str | None
    failure_redirect: bool  # send a failed payer to merchantRedirect too (Kashier's default)
    webhook_url: str | None
    allowed_methods: tuple[str, ...]
    meta_data: Any
    creation_date: str = field(default_factory=_now)
    transactions: list[SimTransaction] = field(default_factory=list)

    def total(self, operation: str) -> int:
        return sum(
            t.amount_minor for t in self.transactions if t.operation == operation and t.status == "SUCCESS"
        )

    def pending_refunds(self) -> int:
        return sum(
            t.amount_minor for t in self.transactions if t.operation == "refund" and t.status == "PENDING"
        )

    def pending_payment(self) -> SimTransaction | None:
        return next((t for t in self.transactions if t.operation == "pay" and t.status == "PENDING"), None)

    def status(self) -> str:
        if self.total("pay"):
            return "CAPTURED"
        return "PENDING" if self.pending_payment() else "FAILED"


@dataclass(frozen=True, slots=True)
class PayResult:
    transaction: SimTransaction
    outcome: str
    redirect_url: str | None


class Simulator:
    def __init__(self, settings: SimulatorSettings, outbox: Outbox) -> None:
        self.settings = settings
        self.outbox = outbox
        self.orders: dict[str, SimOrder] = {}
        self.global_faults = Faults()
        self.order_faults: dict[str, Faults] = {}
        # Calls still to answer 502, per order ("" for every order): set with the faults.
        self.bad_gateway_left: dict[str, int] = {}

    def faults_for(self, merchant_order_id: str) -> Faults:
        return self.order_faults.get(merchant_order_id, self.global_faults)

    def set_faults(self, merchant_order_id: str | None, faults: Faults) -> None:
        if merchant_order_id is None:
            self.global_faults = faults
        else:
            self.order_faults[merchant_order_id] = faults
        self.bad_gateway_left[merchant_order_id or ""] = faults.bad_gateway

    def clear_faults(self) -> None:
        self.global_faults, self.order_faults, self.bad_gateway_left = Faults(), {}, {}

    def bad_gateway(self, merchant_order_id: str) -> bool:
        """Whether this lookup or refund call is one of those answered 502 (and counted)."""
        key = merchant_order_id if merchant_order_id in self.order_faults else ""
        left = self.bad_gateway_left.get(key, 0)
        if left:
            self.bad_gateway_left[key] = left - 1
        return left > 0

    def authorized(self, authorization: str | None) -> bool:
        """Server-to-server calls carry the raw Secret key (no "Bearer")."""
        given = (authorization or "").encode()
        return hmac.compare_digest(given, self.settings.secret_key.encode())

    # --- hosted payment page ------------------------------------------------------------

    def open_order(self, params: Mapping[str, str]) -> SimOrder:
        """The hosted page's parameters: checked against the order hash, over the amount
        string exactly as received, then the order is registered (or found again)."""
        missing = [k for k in ("merchantId", "orderId", "amount", "currency", "hash") if not params.get(k)]
        if missing:
            raise SimError(400, f"missing parameters: {', '.join(missing)}")
        mid, order_id, amount, currency = (
            params["merchantId"],
            params["orderId"],
            params["amount"],
            params["currency"],
        )
        if mid != self.settings.mid:
            raise SimError(403, "unknown merchant")
        expected = order_hash(self.settings.api_key, mid, order_id, amount, currency)
        if not hmac.compare_digest(expected.encode(), params["hash"].lower().encode("utf-8", "replace")):
            raise SimError(403, "invalid order hash")
        if currency not in MINOR_UNITS:
            raise SimError(400, f"unsupported currency {currency}")
        try:
            amount_minor = parse_amount(amount, currency)
        except ValueError as exc:
            raise SimError(400, str(exc)) from None
        if amount_minor <= 0:
            raise SimError(400, "amount must be positive")
        existing = self.orders.get(order_id)
        if existing is not None:
            if (existing.amount_minor, existing.currency) != (amount_minor, currency):
                raise SimError(409, "this orderId was already used for another amount")
            return existing
        order = SimOrder(
            merchant_order_id=order_id,
            kashier_order_id=str(uuid.uuid4()),
            order_reference=f"TEST-ORD-{secrets.randbelow(10**8):08d}",
            amount=amount,
            amount_minor=amount_minor,
            currency=currency,
            mode=params.get("mode") or self.settings.mode,
            redirect_url=params.get("merchantRedirect") or None,
            failure_redirect=params.get("failureRedirect", "true").lower() != "false",
            webhook_url=params.get("serverWebhook") or None,
            allowed_methods=tuple(
                m.strip() for m in params.get("allowedMethods", "").split(",") if m.strip()
            ),
            meta_data=_json_or_text(params.get("metaData")),
        )
        self.orders[order_id] = order
        return order

    def order(self, merchant_order_id: str) -> SimOrder:
        try:
            return self.orders[merchant_order_id]
        except KeyError:
            raise SimError(404, "unknown order (open the hosted payment page first)") from None

    # --- paying ---------------------------------------------------------------------------

    def pay(self, order: SimOrder, method: str, details: Mapping[str, str]) -> PayResult:
        """One payment attempt on the hosted page; a failed one may be retried."""
        if method not in METHODS:
            raise SimError(400, f"method must be one of {', '.join(METHODS)}")
        if order.allowed_methods and method not in order.allowed_methods:
            raise SimError(400, f"method {method} is not allowed for this order")
        if order.total("pay"):
            raise SimError(409, "order already paid")
        if order.pending_payment():
            raise SimError(409, "a payment for this order is still pending")
        if method == "card":
            return self._pay_card(order, details)
        if method == "wallet":
            approve = details.get("outcome", "approve") == "approve"
            tx = self._transaction("pay", "SUCCESS" if approve else "FAILURE", "wallet", order.amount_minor)
            if not approve:
                tx.response_code, tx.response_message = "05", "Wallet payment declined"
            return self._settled(order, tx, "approved" if approve else "declined")
        tx = self._transaction("pay", "PENDING", "fawry", order.amount_minor)
        tx.fawry_reference = f"{secrets.randbelow(10**9):09d}"
        tx.response_message = "Awaiting payment at a Fawry outlet"
        return self._settled(order, tx, "pending")

    def _pay_card(self, order: SimOrder, details: Mapping[str, str]) -> PayResult:
        number = details.get("cardNumber", "")
        try:
            result = card_outcome(number, details.get("expiry", ""), details.get("cvv", ""), _today())
        except ValueError as exc:
            raise SimError(400, str(exc)) from None
        card = {
            "cardInfo": {
                "cardHolderName": details.get("cardHolderName", "TEST CARDHOLDER"),
                "cardBrand": card_brand(number),
                "maskedCard": mask(number),
            },
            "cardDataToken": "",
        }
        status = {CardOutcome.APPROVED: "SUCCESS", CardOutcome.TIMED_OUT: "PENDING"}.get(
            result.outcome, "FAILURE"
        )
        tx = self._transaction("pay", status, "card", order.amount_minor)
        tx.card, tx.response_code, tx.response_message = card, result.response_code, result.message
        if result.outcome is not CardOutcome.TIMED_OUT:
            return self._settled(order, tx, result.outcome.value)
        # The issuer timed out: no webhook now; later the money turns out captured after all.
        order.transactions.append(tx)

        async def late() -> None:
            if tx.status == "PENDING":
                tx.status, tx.response_code, tx.response_message = "SUCCESS", "00", "Approved"
                tx.response_date = _now()
                self._emit(order, "pay", tx)

        self.outbox.after(self.settings.late_webhook_delay, late)
        return PayResult(tx, result.outcome.value, self._redirect(order, tx, "FAILURE"))

    def _settled(self, order: SimOrder, tx: SimTransaction, outcome: str) -> PayResult:
        if tx.status != "PENDING":
            tx.response_date = _now()
        order.transactions.append(tx)
        self._emit(order, "pay", tx)
        return PayResult(tx, outcome, self._redirect(order, tx, tx.status))

    def settle_fawry(self, order: SimOrder, paid: bool) -> SimTransaction:
        """The customer paid at an outlet, or the reference expired (PROTOCOL.md §4)."""
        tx = order.pending_payment()
        if tx is None or tx.method != "fawry":
            raise SimError(409, "no pending Fawry payment on this order")
        tx.status = "SUCCESS" if paid else "FAILURE"
        tx.response_code, tx.response_message = (
            ("00", "Paid at Fawry") if paid else ("54", "Reference expired")
        )
        tx.response_date = _now()
        self._emit(order, "pay", tx)
        return tx

    # --- refunds and lookups ---------------------------------------------------------------

    def refund(
        self, merchant_order_id: str, body: Mapping[str, Any], *, pending: bool = False
    ) -> SimTransaction:
        """A refund, done at once, or left `pending` (no webhook until it is settled)."""
        order = self.orders.get(merchant_order_id)
        if order is None or not order.transactions:
            raise SimError(404, "order not found")
        transaction = body.get("transaction")
        if body.get("apiOperation") != "REFUND" or not isinstance(transaction, Mapping):
            raise SimError(400, "apiOperation REFUND and a transaction are required")
        if transaction.get("currency") != order.currency:
            raise SimError(400, "currency does not match the order")
        amount = transaction.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise SimError(400, "transaction.amount must be a number")
        try:
            amount_minor = minor_from_major(amount, order.currency)
        except ValueError as exc:
            raise SimError(400, str(exc)) from None
        if amount_minor <= 0:
            raise SimError(400, "refund amount must be positive")
        if amount_minor > order.total("pay") - order.total("refund") - order.pending_refunds():
            raise SimError(400, "refund amount exceeds the captured amount not yet refunded")
        paid_with = next(
            t.method for t in order.transactions if t.operation == "pay" and t.status == "SUCCESS"
        )
        tx = self._transaction("refund", "PENDING" if pending else "SUCCESS", paid_with, amount_minor)
        order.transactions.append(tx)
        if not pending:
            tx.response_date = _now()
            self._emit(order, "refund", tx)
        return tx

    def settle_refunds(self, order: SimOrder) -> list[SimTransaction]:
        """Every pending refund of the order goes through, with its webhook."""
        settled = [t for t in order.transactions if t.operation == "refund" and t.status == "PENDING"]
        for tx in settled:
            tx.status, tx.response_date = "SUCCESS", _now()
            self._emit(order, "refund", tx)
        return settled

    def lookup(self, merchant_order_id: str) -> dict[str, Any] | None:
        """The order as ``GET /payments/orders/{id}`` shows it; None when unknown (an
        order nobody tried to pay is unknown to Kashier too)."""
        order = self.orders.get(merchant_order_id)
        if order is None or not order.transactions:
            return None

        def number(minor: int) -> int | float:
            return major_number(minor, order.currency)

        def total(operation: str) -> float:
            # Kashier sums in floating point: 10.1 + 20.2 reads 30.299999999999997.
            return sum(
                (
                    float(number(t.amount_minor))
                    for t in order.transactions
                    if t.operation == operation and t.status == "SUCCESS"
                ),
                0.0,
            )

        payments = [t for t in order.transactions if t.operation == "pay"]
        return {
            "merchantOrderId": order.merchant_order_id,
            "orderId": order.kashier_order_id,
            "orderReference": order.order_reference,
            "status": order.status(),
            "method": payments[-1].method,
            "creationDate": order.creation_date,
            "totalCapturedAmount": total("pay"),
            "totalRefundedAmount": total("refund"),
            # (The order's own amount arrives as text.)
            "order": {
                "amount": format_amount(order.amount_minor, order.currency),
                "currency": order.currency,
            },
            "transactions": [
                {
                    "transactionId": t.transaction_id,
                    "operation": t.operation,
                    "status": t.status,
                    "method": t.method,
                    "amount": number(t.amount_minor),
                    "currency": order.currency,
                    "requestDate": t.request_date,
                    "responseDate": t.response_date,
                }
                for t in order.transactions
            ],
        }

    # --- webhooks and redirects --------------------------------------------------------------

    def webhook_data(self, order: SimOrder, tx: SimTransaction) -> dict[str, Any]:
        data: dict[str, Any] = {
            "merchantOrderId": order.merchant_order_id,
            "kashierOrderId": order.kashier_order_id,
            "orderReference": order.order_reference,
            "transactionId": tx.transaction_id,
            "status": tx.status,
            "method": tx.method,
            "creationDate": tx.request_date,
            "amount": major_number(tx.amount_minor, order.currency),
            "currency": order.currency,
            "transactionResponseCode": tx.response_code,
            "transactionResponseMessage": {"en": tx.response_message, "ar": tx.response_message},
            "channel": CHANNEL,
            "metaData": order.meta_data,
            "signatureKeys": list(SIGNATURE_KEYS),
        }
        if tx.card is not None:
            data["card"] = tx.card
        if tx.fawry_reference is not None:
            data["fawryReference"] = tx.fawry_reference  # informational, not signed
        return data

    def _emit(self, order: SimOrder, event: str, tx: SimTransaction) -> None:
        if order.webhook_url:
            faults = self.faults_for(order.merchant_order_id)
            self.outbox.enqueue(order.webhook_url, event, self.webhook_data(order, tx), faults)

    def _redirect(self, order: SimOrder, tx: SimTransaction, status: str) -> str | None:
        """Where the browser goes after paying: merchantRedirect, plus the signed query of
        PROTOCOL.md §2; after a failure only when failureRedirect is not "false"."""
        target = order.redirect_url
        if target is None or (status == "FAILURE" and not order.failure_redirect):
            return None
        card_info = (tx.card or {}).get("cardInfo", {})
        fields = [
            ("paymentStatus", status),
            ("cardDataToken", ""),
            ("maskedCard", str(card_info.get("maskedCard", ""))),
            ("merchantOrderId", order.merchant_order_id),
            ("orderId", order.kashier_order_id),
            ("cardBrand", str(card_info.get("cardBrand", ""))),
            ("orderReference", order.order_reference),
            ("transactionId", tx.transaction_id),
            ("amount", order.amount),
            ("currency", order.currency),
        ]
        query = urlencode(signed_redirect_query(self.settings.api_key, fields, order.mode))
        return f"{target}{'&' if '?' in target else '?'}{query}"

    @staticmethod
    def _transaction(operation: str, status: str, method: str, amount_minor: int) -> SimTransaction:
        return SimTransaction(
            transaction_id=f"TX-{secrets.randbelow(10**10):010d}",
            operation=operation,
            status=status,
            method=method,
            amount_minor=amount_minor,
            response_code="00" if status != "FAILURE" else "05",
            response_message="Approved" if status == "SUCCESS" else status.title(),
        )


def _today() -> date:
    return datetime.now(UTC).date()


def _json_or_text(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text
