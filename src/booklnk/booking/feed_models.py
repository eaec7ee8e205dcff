"""Private calendar feeds: one secret URL per staff member, stored only as a hash."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from booklnk.db.base import Base


class CalendarFeed(Base):
    """The current feed token of one staff member (rotating replaces the row's hash).

    An ordinary tenant table under row-level security: the token itself names its business
    (see booking.listing.new_feed_token), so the public feed route enters that tenant's
    context before it reads anything, this row included.

    A feed lives no longer than the membership of whoever issued it: removing that member
    deletes it (the cascade below), so a staff member who leaves takes their URL's
    access with them.
    """

    __tablename__ = "calendar_feed"
    __table_args__ = (
        ForeignKeyConstraint(["business_id"], ["business.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["business_id", "staff_id"], ["staff_member.business_id", "staff_member.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["business_id", "issued_by"], ["membership.business_id", "membership.user_id"], ondelete="CASCADE"
        ),
        Index("ix_calendar_feed_issuer", "business_id", "issued_by"),
        UniqueConstraint("business_id", "token_hash"),  # a feed's URL names its business
    )

    business_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    staff_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    issued_by: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
