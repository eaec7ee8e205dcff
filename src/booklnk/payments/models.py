"""Payment attempts, the webhook deliveries that report on them, and the money ledger."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from booklnk.db.base import Base, Timestamped


def _enum(cls: type[enum.StrEnum], name: str) -> Enum:
    return Enum(cls, name=name, values_callable=lambda e: [m.value for m in e])


class AttemptStatus(enum.StrEnum):
    STARTED = "started"  # the hosted-page URL was handed out
    PENDING = "pending"  # Fawry: a reference was issued, cash not yet paid
    PAID = "paid"
    FAILED = "failed"
    FLAGGED = "flagged"  # money arrived that does not match: a person must look


class AttemptPurpose(enum.StrEnum):
    HOLD = "hold"  # pays what a held booking needs to be confirmed (its deposit or price)
    BALANCE = "balance"  # pays what is still due on a booking that stands (pay at the venue, online)


class PaymentAttempt(Timestamped, Base):
    """One trip to the hosted payment page: its own order id, so a retried checkout never
    collides with an earlier one. Written before the URL is returned."""

    __tablename__ = "payment_attempt"
    __table_args__ = (
        ForeignKeyConstraint(["business_id"], ["business.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["business_id", "booking_id"], ["booking.business_id", "booking.id"]),
        # Unique across tenants through `payment_order`'s key, written with the attempt.
        UniqueConstraint("business_id", "order_id"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        Index("ix_payment_attempt_booking", "business_id", "booking_id"),
        Index("ix_payment_attempt_created", "business_id", "created_at"),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    booking_id: Mapped[uuid.UUID]
    order_id: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(20))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[AttemptStatus] = mapped_column(_enum(AttemptStatus, "payment_attempt_status"))
    purpose: Mapped[AttemptPurpose] = mapped_column(
        _enum(AttemptPurpose, "payment_attempt_purpose"), default=AttemptPurpose.HOLD
    )
    gateway_order_id: Mapped[str | None] = mapped_column(String(100))
    review_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The client's pages for the customer's return, checked against the business's return
    # origins at checkout: the browser return redirects only to these, never to a query's URL.
    return_url: Mapped[str | None] = mapped_column(Text)
    cancel_url: Mapped[str | None] = mapped_column(Text)


class PaymentOrder(Base):
    """Which business an order id belongs to. Webhooks arrive without a tenant; this global
    index (no other data) lets the worker enter the right one."""

    __tablename__ = "payment_order"

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    business_id: Mapped[uuid.UUID]


class WebhookDelivery(Base):
    """Every verified webhook, stored before it is acknowledged; one row per distinct event
    (Kashier has no event id: the unique key is event, transaction, status and, because a
    transaction id was once seen on two refunds of one order, the amount)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint(
            "event", "transaction_id", "status", "amount_minor", name="uq_webhook_delivery_event"
        ),
        Index("ix_webhook_delivery_order", "merchant_order_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    event: Mapped[str] = mapped_column(String(20))
    transaction_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    merchant_order_id: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(40))


class LedgerKind(enum.StrEnum):
    CAPTURE = "capture"
    REFUND = "refund"
    # Nothing writes one: no webhook, lookup or refund answer known of Kashier reports a fee
    # (PROTOCOL.md). Kept for the day a settlement report does, so adding it is no migration;
    # balances and reconciliation count captures and refunds only.
    FEE = "fee"


class LedgerChannel(enum.StrEnum):
    KASHIER = "kashier"  # moved by the gateway, reported by its webhook (an attempt's)
    DESK = "desk"  # taken or given back at the venue, recorded by a member of staff


class DeskMethod(enum.StrEnum):
    CASH = "cash"
    CARD_TERMINAL = "card_terminal"


class LedgerEntry(Base):
    """An append-only money movement in integer minor units (the app role may only insert).
    `source` names what caused it, unique per business, so applying one event twice cannot
    move money twice. Gateway money belongs to a payment attempt; money taken at the desk
    belongs to no attempt and names who recorded it."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        ForeignKeyConstraint(["business_id"], ["business.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["business_id", "attempt_id"], ["payment_attempt.business_id", "payment_attempt.id"]
        ),
        UniqueConstraint("business_id", "source"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint(
            "(channel = 'kashier' AND attempt_id IS NOT NULL AND desk_method IS NULL)"
            " OR (channel = 'desk' AND attempt_id IS NULL AND desk_method IS NOT NULL"
            " AND recorded_by IS NOT NULL)",
            name="channel_fields",
        ),
        Index("ix_ledger_entry_booking", "business_id", "booking_id"),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    booking_id: Mapped[uuid.UUID]
    attempt_id: Mapped[uuid.UUID | None]
    channel: Mapped[LedgerChannel] = mapped_column(
        _enum(LedgerChannel, "ledger_channel"), default=LedgerChannel.KASHIER
    )
    desk_method: Mapped[DeskMethod | None] = mapped_column(_enum(DeskMethod, "desk_method"), default=None)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    kind: Mapped[LedgerKind] = mapped_column(_enum(LedgerKind, "ledger_kind"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    source: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))


class RefundStatus(enum.StrEnum):
    REQUESTED = "requested"  # recorded; the call has not been made
    SENDING = "sending"  # the call was (maybe) made: a retry looks the order up first
    ACCEPTED = "accepted"  # Kashier said yes; its refund webhook settles the money
    REFUSED = "refused"
    SETTLED = "settled"  # its refund webhook came: the money is in the ledger


class RefundIntent(Timestamped, Base):
    """A refund we decided on, recorded before Kashier is called, so the call is made at
    most once per intent. Intents not refused never add up to more than was captured."""

    __tablename__ = "refund_intent"
    __table_args__ = (
        ForeignKeyConstraint(["business_id"], ["business.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["business_id", "attempt_id"], ["payment_attempt.business_id", "payment_attempt.id"]
        ),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        Index("ix_refund_intent_attempt", "business_id", "attempt_id"),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    booking_id: Mapped[uuid.UUID]
    attempt_id: Mapped[uuid.UUID]
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[RefundStatus] = mapped_column(_enum(RefundStatus, "refund_status"))
    gateway_transaction_id: Mapped[str | None] = mapped_column(String(100))
    gateway_message: Mapped[str | None] = mapped_column(Text)


class ReconciliationRun(Base):
    """One business's check of one local day against the gateway; re-running the day
    updates this row, adds only mismatches not found before and resolves those it no
    longer finds (a failed lookup is looked up again)."""

    __tablename__ = "reconciliation_run"
    __table_args__ = (
        ForeignKeyConstraint(["business_id"], ["business.id"], ondelete="CASCADE"),
        UniqueConstraint("business_id", "day"),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    day: Mapped[date] = mapped_column(Date)
    orders_checked: Mapped[int] = mapped_column(Integer, default=0)
    mismatches: Mapped[int] = mapped_column(Integer, default=0)  # still open
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MismatchKind(enum.StrEnum):
    CAPTURED_NOT_RECORDED = "captured_not_recorded"  # a lost webhook: healed by applying it
    PAID_HERE_NOT_AT_GATEWAY = "paid_here_not_at_gateway"
    AMOUNT_DIFFERS = "amount_differs"
    CURRENCY_DIFFERS = "currency_differs"
    REFUNDS_DIFFER = "refunds_differ"
    STATUS_DIFFERS = "status_differs"
    LOOKUP_FAILED = "lookup_failed"  # the gateway did not answer: nothing was compared
    REFUND_REFUSED = "refund_refused"  # Kashier refused a refund we asked for: nothing went back
    REFUND_PENDING_LONG = "refund_pending_long"  # accepted (or maybe sent) a day ago, not settled


class ReconciliationMismatch(Base):
    __tablename__ = "reconciliation_mismatch"
    __table_args__ = (
        ForeignKeyConstraint(
            ["business_id", "run_id"],
            ["reconciliation_run.business_id", "reconciliation_run.id"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("business_id", "run_id", "order_id", "kind"),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    run_id: Mapped[uuid.UUID]
    order_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[MismatchKind] = mapped_column(_enum(MismatchKind, "mismatch_kind"))
    ours: Mapped[str] = mapped_column(Text)
    gateway: Mapped[str] = mapped_column(Text)
    healed: Mapped[bool] = mapped_column(default=False)
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    # A later run of the day looked the order up and no longer found it.
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
