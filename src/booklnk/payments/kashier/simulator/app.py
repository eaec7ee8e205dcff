"""The simulator's HTTP face: Kashier's endpoints plus ``/__sim/*`` admin endpoints.

Kashier's side (one host stands for all three of Kashier's):
- ``GET /`` hosted payment page, ``POST /pay`` its form;
- ``GET /payments/orders/{merchantOrderId}`` order lookup (API host);
- ``PUT /v3/orders/{merchantOrderId}`` refund (FEP host).

Admin side, for tests and demos (unauthenticated: it is a local simulator):
- ``POST /__sim/pay`` pay an order in one JSON call (card, wallet or Fawry);
- ``POST /__sim/orders/{merchantOrderId}/fawry/{paid|expire}`` settle a Fawry reference;
- ``POST /__sim/orders/{merchantOrderId}/refunds`` a refund made in Kashier's dashboard
  (``{"amountMinor": n}``): no call from the merchant, its webhook all the same;
- ``POST|GET|DELETE /__sim/faults`` fault injection, per order or global;
- ``GET /__sim/outbox`` delivery counts (``pending`` 0 = drained) and attempts;
  ``POST /__sim/outbox/release`` sends held-back webhooks; ``POST /__sim/reset`` forgets all.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from booklnk.payments.kashier.client import major_number
from booklnk.payments.kashier.simulator.engine import PayResult, SimError, SimOrder, SimTransaction, Simulator
from booklnk.payments.kashier.simulator.outbox import Outbox
from booklnk.payments.kashier.simulator.settings import FaultRequest, Faults, SimulatorSettings


class PayRequest(BaseModel):
    """``POST /__sim/pay``: the order by id (hosted page already opened) or by its hosted
    page URL (opened here, with the same hash check)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    merchant_order_id: str | None = Field(default=None, alias="merchantOrderId")
    url: str | None = None
    method: Literal["card", "wallet", "fawry"] = "card"
    card_number: str = Field(default="5111111111111118", alias="cardNumber")
    expiry: str = "12/39"
    cvv: str = "100"
    # Wallets have no test numbers: the outcome is chosen directly.
    outcome: Literal["approve", "decline"] = "approve"


class DashboardRefund(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    amount_minor: int = Field(gt=0, alias="amountMinor")


BAD_GATEWAY = "<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>"


def _failure(status: int, message: str) -> JSONResponse:
    return JSONResponse({"status": "FAILURE", "messages": {"en": message}}, status_code=status)


def _unauthorized() -> JSONResponse:
    return _failure(401, "Unauthorized: the Authorization header must carry the Secret key")


def create_app(settings: SimulatorSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient() as http:
            outbox = Outbox(
                http,
                api_key=settings.api_key,
                retry_delays=settings.retry_delays,
                timeout=settings.delivery_timeout,
            )
            app.state.sim = Simulator(settings, outbox)
            try:
                yield
            finally:
                await outbox.close()

    app = FastAPI(title="Kashier simulator", lifespan=lifespan)

    def sim(request: Request) -> Simulator:
        simulator: Simulator = request.app.state.sim
        return simulator

    @app.exception_handler(SimError)
    async def sim_error(request: Request, exc: SimError) -> Response:
        if request.url.path in ("/", "/pay"):
            return HTMLResponse(_page("Payment refused", f"<p>{html.escape(exc.message)}</p>"), exc.status)
        return _failure(exc.status, exc.message)

    @app.get("/", response_class=HTMLResponse)
    async def hosted_page(request: Request) -> HTMLResponse:
        order = sim(request).open_order(dict(request.query_params))
        return HTMLResponse(_payment_form(order))

    @app.post("/pay")
    async def pay_form(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        simulator = sim(request)
        result = simulator.pay(simulator.order(form.get("orderId", "")), form.get("method", "card"), form)
        if result.redirect_url:
            return RedirectResponse(result.redirect_url, status_code=302)
        return HTMLResponse(_page("Payment", f"<p>{html.escape(result.transaction.status)}</p>"))

    @app.post("/__sim/pay")
    async def pay_json(request: Request, body: PayRequest) -> dict[str, Any]:
        simulator = sim(request)
        if body.url is not None:
            order = simulator.open_order(dict(parse_qsl(urlsplit(body.url).query, keep_blank_values=True)))
        elif body.merchant_order_id is not None:
            order = simulator.order(body.merchant_order_id)
        else:
            raise SimError(400, "merchantOrderId or url is required")
        details = {
            "cardNumber": body.card_number,
            "expiry": body.expiry,
            "cvv": body.cvv,
            "outcome": body.outcome,
        }
        return _pay_answer(order, simulator.pay(order, body.method, details))

    @app.post("/__sim/orders/{merchant_order_id}/fawry/{action}")
    async def fawry(
        request: Request, merchant_order_id: str, action: Literal["paid", "expire"]
    ) -> dict[str, Any]:
        simulator = sim(request)
        tx = simulator.settle_fawry(simulator.order(merchant_order_id), paid=action == "paid")
        return {"status": tx.status, "transactionId": tx.transaction_id}

    @app.get("/payments/orders/{merchant_order_id}")
    async def lookup(request: Request, merchant_order_id: str) -> Response:
        simulator = sim(request)
        if not simulator.authorized(request.headers.get("authorization")):
            return _unauthorized()
        if simulator.bad_gateway(merchant_order_id):
            return HTMLResponse(BAD_GATEWAY, 502)
        delay = simulator.faults_for(merchant_order_id).lookup_delay_seconds
        if delay:
            await asyncio.sleep(delay)
        found = simulator.lookup(merchant_order_id)
        if found is None:
            return JSONResponse({"status": "FAILURE", "messages": {"en": "Order not found"}})
        return JSONResponse({"status": "SUCCESS", "response": found})

    @app.put("/v3/orders/{merchant_order_id}")
    async def refund(request: Request, merchant_order_id: str) -> Response:
        simulator = sim(request)
        if not simulator.authorized(request.headers.get("authorization")):
            return _unauthorized()
        if simulator.bad_gateway(merchant_order_id):
            return HTMLResponse(BAD_GATEWAY, 502)
        try:
            body = await request.json()
        except ValueError:
            raise SimError(400, "body must be JSON") from None
        if not isinstance(body, Mapping):
            raise SimError(400, "body must be a JSON object")
        faults = simulator.faults_for(merchant_order_id)
        tx = simulator.refund(merchant_order_id, body, pending=faults.refund_answer == "pending")
        order = simulator.orders[merchant_order_id]
        if faults.refund_delay_seconds:
            await asyncio.sleep(faults.refund_delay_seconds)
        return JSONResponse(_refund_answer(faults.refund_answer, order, tx, simulator))

    @app.post("/__sim/orders/{merchant_order_id}/refunds")
    async def dashboard_refund(
        request: Request, merchant_order_id: str, body: DashboardRefund
    ) -> dict[str, Any]:
        simulator = sim(request)
        order = simulator.order(merchant_order_id)
        amount = major_number(body.amount_minor, order.currency)
        refund = {"apiOperation": "REFUND", "transaction": {"amount": amount, "currency": order.currency}}
        tx = simulator.refund(merchant_order_id, refund)
        return {"status": tx.status, "transactionId": tx.transaction_id}

    @app.post("/__sim/orders/{merchant_order_id}/refunds/settle")
    async def settle_refunds(request: Request, merchant_order_id: str) -> dict[str, Any]:
        simulator = sim(request)
        settled = simulator.settle_refunds(simulator.order(merchant_order_id))
        return {"settled": [t.transaction_id for t in settled]}

    @app.post("/__sim/faults")
    async def set_faults(request: Request, body: FaultRequest) -> dict[str, Any]:
        simulator = sim(request)
        faults = Faults.model_validate(body.model_dump(exclude={"merchant_order_id"}))
        simulator.set_faults(body.merchant_order_id, faults)
        return _faults_view(simulator)

    @app.get("/__sim/faults")
    async def get_faults(request: Request) -> dict[str, Any]:
        return _faults_view(sim(request))

    @app.delete("/__sim/faults")
    async def clear_faults(request: Request) -> dict[str, Any]:
        simulator = sim(request)
        simulator.clear_faults()
        return _faults_view(simulator)

    @app.get("/__sim/outbox")
    async def outbox(request: Request) -> dict[str, Any]:
        box = sim(request).outbox
        return {**box.counts(), "deliveries": [d.summary() for d in box.deliveries]}

    @app.post("/__sim/outbox/release")
    async def release(request: Request) -> dict[str, int]:
        return {"released": sim(request).outbox.release_held()}

    @app.post("/__sim/reset")
    async def reset(request: Request) -> dict[str, str]:
        simulator = sim(request)
        await simulator.outbox.close()
        simulator.orders.clear()
        simulator.clear_faults()
        return {"status": "reset"}

    return app


def _pay_answer(order: SimOrder, result: PayResult) -> dict[str, Any]:
    tx = result.transaction
    return {
        "merchantOrderId": order.merchant_order_id,
        "kashierOrderId": order.kashier_order_id,
        "transactionId": tx.transaction_id,
        "status": tx.status,
        "outcome": result.outcome,
        "redirectUrl": result.redirect_url,
        "fawryReference": tx.fawry_reference,
    }


def _refund_answer(shape: str, order: SimOrder, tx: SimTransaction, simulator: Simulator) -> dict[str, Any]:
    """A refund's answer in the shape the faults ask for (PROTOCOL.md §8)."""
    response: dict[str, Any] = {
        "transactionId": tx.transaction_id,
        "orderId": order.kashier_order_id,
        "merchantOrderId": order.merchant_order_id,
        "amount": simulator.webhook_data(order, tx)["amount"],
        "currency": order.currency,
    }
    if shape == "status":  # an older documentation sample
        return {"response": {**response, "status": "SUCCESS"}}
    if shape == "refunded":  # as a third-party client reads it
        return {"status": "SUCCESS", "response": {**response, "status": "REFUNDED"}}
    # As Kashier's WooCommerce plugin reads it: only `response.result` says what happened.
    return {"response": {**response, "result": "PENDING" if shape == "pending" else "SUCCESS"}}


def _faults_view(simulator: Simulator) -> dict[str, Any]:
    return {
        "global": simulator.global_faults.model_dump(),
        "orders": {k: v.model_dump() for k, v in simulator.order_faults.items()},
    }


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def _payment_form(order: SimOrder) -> str:
    methods = order.allowed_methods or ("card", "wallet", "fawry")
    options = "".join(f"<option value='{html.escape(m)}'>{html.escape(m)}</option>" for m in methods)
    body = (
        f"<p>Order {html.escape(order.merchant_order_id)}: {html.escape(order.amount)} "
        f"{html.escape(order.currency)} ({html.escape(order.mode)} mode)</p>"
        "<form method='post' action='/pay'>"
        f"<input type='hidden' name='orderId' value='{html.escape(order.merchant_order_id)}'>"
        f"<label>Method <select name='method'>{options}</select></label><br>"
        "<label>Card number <input name='cardNumber' value='5111111111111118'></label><br>"
        "<label>Expiry (MM/YY) <input name='expiry' value='12/39'></label><br>"
        "<label>CVV <input name='cvv' value='100'></label><br>"
        "<label>Wallet outcome <select name='outcome'><option>approve</option>"
        "<option>decline</option></select></label><br>"
        "<button type='submit'>Pay</button></form>"
    )
    return _page("Kashier simulator", body)
