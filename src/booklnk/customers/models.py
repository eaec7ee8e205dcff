"""The customer record table (its writer: `customers.repository`)."""

from __future__ import annotations

import uuid

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from booklnk.db.base import Base, Timestamped


class CustomerRecord(Timestamped, Base):
    """One person as one business knows them. A record of an account (`user_id`) takes its
    name and phone from the account unless staff wrote their own; a walk-in's record has
    no account until that person proves the same number and books here. `search_key` is
    `names.search_key` of the name, phone and e-mail, kept by the writer. `version` is
    bumped by every change (staff edits compare it)."""

    __tablename__ = "customer_record"
    __table_args__ = (
        ForeignKeyConstraint(["business_id"], ["business.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["user_id"], ["app_user.id"], ondelete="SET NULL"),
        CheckConstraint("user_id IS NOT NULL OR name IS NOT NULL", name="named"),
        CheckConstraint("cardinality(tags) <= 20", name="tags_bounded"),
        # One record per account and per number in a business: the link by phone is unambiguous.
        Index(
            "uq_customer_record_business_user",
            "business_id",
            "user_id",
            unique=True,
            postgresql_where=text("user_id IS NOT NULL"),
        ),
        Index(
            "uq_customer_record_business_phone",
            "business_id",
            "phone",
            unique=True,
            postgresql_where=text("phone IS NOT NULL"),
        ),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    name: Mapped[str | None] = mapped_column(String(200), default=None)
    phone: Mapped[str | None] = mapped_column(String(16), default=None)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list, server_default="{}")
    marketing_consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    search_key: Mapped[str] = mapped_column(Text, default="", server_default="")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
