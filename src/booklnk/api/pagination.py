"""The page envelope and query parameters shared by list endpoints."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from booklnk.db.pagination import MAX_PAGE_SIZE

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


CursorQuery = Annotated[str | None, Query(description="Opaque cursor from a previous page.")]
LimitQuery = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size.")]

# Said in each paginated operation's description, so the rule is read where it is used.
PAGED = f"Paginated: `next_cursor` opens the next page (`limit` 1-{MAX_PAGE_SIZE}, default 50)."
