"""Deleting account records that can no longer matter (the daily job)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk.tenancy.models import LoginFailure, RefreshToken

# A refresh token is kept this long past its expiry, so a late replay of a rotated
# token is still recognised as reuse (and revokes its family) instead of "unknown".
REFRESH_TOKEN_GRACE = timedelta(days=7)


async def prune(session: AsyncSession, *, now: datetime, login_window_seconds: int) -> tuple[int, int]:
    """Delete login-throttle windows that have closed and long-expired refresh tokens;
    returns how many of each went."""
    windows = await session.execute(
        delete(LoginFailure).where(LoginFailure.window_start < now - timedelta(seconds=login_window_seconds))
    )
    tokens = await session.execute(
        delete(RefreshToken).where(RefreshToken.expires_at < now - REFRESH_TOKEN_GRACE)
    )
    return windows.rowcount or 0, tokens.rowcount or 0  # type: ignore[attr-defined]
