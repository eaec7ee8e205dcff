"""Fixtures shared by the catalog tests."""

from __future__ import annotations

import httpx
import pytest
from catalog_support import Biz, Shop, open_biz, open_shop


@pytest.fixture
async def biz(client: httpx.AsyncClient) -> Biz:
    """A business and its owner."""
    return await open_biz(client)


@pytest.fixture
async def shop(client: httpx.AsyncClient) -> Shop:
    """A business with an owner, a staff member and a customer."""
    return await open_shop(client)
