"""API shapes for checkout, webhooks and the browser return."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

from booklnk.booking.models import BookingStatus
from booklnk.booking.schemas import BookingOut
from booklnk.payments.models import (
    AttemptPurpose,
    AttemptStatus,
    DeskMethod,
    LedgerKind,
    MismatchKind,
    RefundStatus,
)

AmountMinor = Annotated[int, Strict(), Field(gt=0, le=10**12, description="In minor units (piasters).")]


class CheckoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Literal["card", "wallet", "fawry"] = Field(description="One of the business's payment methods.")
    display: Literal["ar", "en"] | None = Field(
        default=None,
        description="The hosted page's language; omitted: the best of the request's `Accept-Language`, "
        "else `en`.",
    )
    return_url: Annotated[str, Field(max_length=2000)] | None = Field(
        default=None,
        description="Where the customer's browser is sent after paying (303 from the return route, with "
        "`booking_id` and `outcome` added); its origin must be one of the business's `return_origins`.",
        examples=["https://book.example.com/bookings/done"],
    )
    cancel_url: Annotated[str, Field(max_length=2000)] | None = Field(
        default=None,
        description="Where it is sent after a failed or cancelled payment (else `return_url`); same rule.",
    )


class CheckoutOut(BaseModel):
    payment_id: uuid.UUID
    order_id: str = Field(description="Unique per attempt; Kashier echoes it as `merchantOrderId`.")
    booking_id: uuid.UUID
    method: str
    amount_minor: int
    currency: str
    status: AttemptStatus
    purpose: AttemptPurpose = Field(
        description="`hold`: what the held booking needs to be confirmed; `balance`: what is still due."
    )
    url: str = Field(description="Send the customer's browser here (Kashier's hosted payment page).")
    kashier: KashierPageOut = Field(
        description="The same payment for Kashier's iframe (`data-*` attributes) or mobile SDKs."
    )


class KashierPageOut(BaseModel):
    """Kashier's hosted-page parameters (PROTOCOL.md §1), for the iframe and mobile SDKs. The
    `hash` is the order hash computed here with the Payment API key: it signs merchant,
    order, amount and currency, and reveals no key."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "merchant_id": "MID-1234-567",
                    "order_id": "bk-8f14e45fceea167a5a36dedd4bea2543",
                    "amount": "150.00",
                    "currency": "EGP",
                    "hash": "606a8a1307d64caf4e2e9bb724738f115a8972c27eccb2a8acd9194c357e4bec",
                    "mode": "test",
                    "display": "ar",
                    "allowed_methods": "card",
                    "merchant_redirect": "https://api.example.com/v1/payments/kashier/return",
                    "server_webhook": "https://api.example.com/v1/webhooks/kashier",
                }
            ]
        }
    )

    merchant_id: str = Field(description="`merchantId` (the MID).")
    order_id: str = Field(description="`orderId`: ours, unique per attempt.")
    amount: str = Field(description="`amount`: major units as text, all decimals (`150.00`).")
    currency: str
    hash: str = Field(description="`hash`: the order hash over exactly these values.")
    mode: Literal["test", "live"]
    display: Literal["ar", "en"] = Field(description="`display`: the page's language.")
    allowed_methods: str = Field(description="`allowedMethods`.")
    merchant_redirect: str = Field(description="`merchantRedirect`: where the customer comes back.")
    server_webhook: str = Field(description="`serverWebhook`: where Kashier reports the payment.")


class WebhookAck(BaseModel):
    received: bool = True
    duplicate: bool = Field(description="An identical event was stored before; nothing new to do.")
    ignored: bool = Field(
        default=False, description="A validly signed event other than `pay` or `refund`: logged, not applied."
    )


class PaymentReturnOut(BaseModel):
    """What the customer sees after the payment page: the booking as it stands now (the
    redirect itself never confirms anything)."""

    order_id: str
    payment_status: str = Field(description="What Kashier's redirect said (informational).")
    attempt_status: AttemptStatus
    booking_id: uuid.UUID
    booking_status: BookingStatus


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_minor: AmountMinor
    reason: Annotated[str, Field(min_length=1, max_length=200)] = "refund"


class RefundOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    booking_id: uuid.UUID
    amount_minor: int
    currency: str
    reason: str
    status: RefundStatus


class ReconciliationRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    day: date = Field(description="The business's local day that was checked.")
    orders_checked: int
    mismatches: int = Field(description="Still open: found, and not resolved by a later run of the day.")
    started_at: datetime
    finished_at: datetime | None


class MismatchOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    order_id: str
    kind: MismatchKind
    ours: str
    gateway: str
    healed: bool = Field(description="A lost webhook, applied from what the gateway reported.")
    found_at: datetime
    resolved_at: datetime | None = Field(
        description="When a later run of the day looked the order up and no longer found this."
    )


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    order_id: str
    method: str
    amount_minor: int
    currency: str
    status: AttemptStatus
    purpose: AttemptPurpose = Field(
        description="`hold`: what a held booking needs to be confirmed; `balance`: what is still due on a "
        "booking that stands (paid online instead of at the venue)."
    )
    review_reason: str | None = Field(description="Why a person must look at it (flagged).")
    created_at: datetime


class DeskMoneyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_minor: AmountMinor
    method: DeskMethod = Field(description="How the money changed hands at the desk.")


class DeskEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: LedgerKind = Field(description="`capture`: taken at the desk; `refund`: handed back.")
    amount_minor: int
    currency: str
    desk_method: DeskMethod
    recorded_by: uuid.UUID = Field(description="The member of staff who recorded it.")
    created_at: datetime


class DeskRecorded(BaseModel):
    entry: DeskEntryOut
    booking: BookingOut


class BookingPaymentsOut(BaseModel):
    booking_id: uuid.UUID
    currency: str
    captured_minor: int = Field(
        description="Sum of the ledger's captures for this booking (online and desk)."
    )
    refunded_minor: int = Field(
        description="Sum of the ledger's refunds (settled by Kashier's webhook, or desk)."
    )
    paid_minor: int = Field(description="Captured less refunded: what the customer has paid, net.")
    desk_paid_minor: int = Field(description="Of that, taken at the desk and not handed back.")
    attempts: list[AttemptOut]
    refunds: list[RefundOut]
    desk: list[DeskEntryOut] = Field(description="Money taken or handed back at the desk, oldest first.")
