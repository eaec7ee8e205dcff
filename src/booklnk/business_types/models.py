"""The stored, validated business-type definitions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from booklnk.db.base import Base, Timestamped


class BusinessType(Timestamped, Base):
    """A validated business-type definition (built-in file, deployment folder, or API)."""

    __tablename__ = "business_type"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))
    definition: Mapped[dict[str, Any]] = mapped_column(JSONB)
