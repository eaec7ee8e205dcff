"""The simulator's configuration and its fault-injection switches."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from booklnk.payments.kashier.config import Mode

# What integrators report of Kashier's retries (PROTOCOL.md §3): 2 m, 10 m, 30 m, 1 h, 2 h,
# then every 4 h, about ten in all. Tests compress it to fractions of a second.
KASHIER_RETRY_DELAYS: tuple[float, ...] = (120, 600, 1800, 3600, 7200, 14400, 14400, 14400, 14400, 14400)


@dataclass(frozen=True, slots=True)
class SimulatorSettings:
    mid: str
    api_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    mode: Mode = "test"
    # Seconds to wait before each retry of a webhook not answered 2xx; one retry per entry.
    retry_delays: tuple[float, ...] = KASHIER_RETRY_DELAYS
    # A delivery not answered within this many seconds counts as failed (and is retried).
    delivery_timeout: float = 30.0
    # A card that "times out" (expiry month 08) is settled, with its webhook, this much later.
    late_webhook_delay: float = 60.0


class Faults(BaseModel):
    """Misbehaviour applied to the webhooks and lookups of one order, or of every order.

    Settings for an order replace the global ones for that order (they are not merged)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    # Extra copies of every webhook, sent at the same instant as the original.
    duplicates: int = Field(default=0, ge=0, le=20)
    # Out of order: a webhook is held back until the order's next webhook has been delivered,
    # then sent (refund before pay, FAILURE after SUCCESS, SUCCESS before PENDING).
    hold: bool = False
    # Every webhook's first attempt waits this long.
    delay_seconds: float = Field(default=0, ge=0, le=3600)
    # Webhooks are never sent: only the lookup API knows what happened.
    drop: bool = False
    # Webhooks are signed with another key, so a correct receiver refuses them.
    wrong_signature: bool = False
    # The lookup API sleeps this long before answering (beyond a client's timeout).
    lookup_delay_seconds: float = Field(default=0, ge=0, le=3600)
    # The refund API makes the refund at once, then sleeps this long before answering: the
    # answer is as good as lost to a client that gives up (or dies) meanwhile.
    refund_delay_seconds: float = Field(default=0, ge=0, le=3600)
    # How a refund is answered (PROTOCOL.md §8): `result` as Kashier's WooCommerce plugin
    # reads it (`response.result` SUCCESS), `status` as an older documentation sample
    # (`response.status` SUCCESS), `refunded` as a third-party client reads it
    # (`response.status` REFUNDED), or `pending`: `response.result` PENDING, the refund stays
    # pending (in the lookup, no webhook) until `POST /__sim/orders/{id}/refunds/settle`.
    refund_answer: Literal["result", "status", "refunded", "pending"] = "result"
    # The next this many lookup and refund calls answer 502 Bad Gateway (an HTML page, as
    # the proxy in front of Kashier does) before reaching it: nothing is looked up or made.
    bad_gateway: int = Field(default=0, ge=0, le=1000)


class FaultRequest(Faults):
    """Body of ``POST /__sim/faults``: without merchantOrderId the faults are global."""

    merchant_order_id: str | None = Field(default=None, alias="merchantOrderId")
