"""Deleting records that can no longer matter (the daily job)."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from booklnk import idempotency
from booklnk.db.database import set_tenant
from booklnk.tenancy.models import LoginThrottle, OneTimeCode, RefreshToken
from booklnk.tenancy.system import business_ids

log = structlog.get_logger(__name__)

# A refresh token is kept this long past its expiry, so a late replay of a rotated
# token is still recognised as reuse (and revokes its family) instead of "unknown".
REFRESH_TOKEN_GRACE = timedelta(days=7)
CODE_GRACE = timedelta(days=1)


async def prune(session: AsyncSession, *, now: datetime) -> tuple[int, int]:
    """Delete login-throttle records already forgotten (each carries when), long-expired
    refresh tokens and one-time codes, and idempotency records past their replay window;
    returns how many records and tokens went (codes and idempotency records are counted in
    log lines)."""
    windows = await session.execute(delete(LoginThrottle).where(LoginThrottle.forget_at <= now))
    tokens = await session.execute(
        delete(RefreshToken).where(RefreshToken.expires_at < now - REFRESH_TOKEN_GRACE)
    )
    # A code a day past its expiry (used, voided or not) is kept no longer: only its
    # attempts mattered, and the address's guesses are counted apart (login_throttle).
    codes = await session.execute(delete(OneTimeCode).where(OneTimeCode.expires_at < now - CODE_GRACE))
    log.info("one_time_codes_pruned", codes=codes.rowcount or 0)  # type: ignore[attr-defined]
    records = await _prune_idempotency(session, now=now)
    log.info("idempotency_records_pruned", records=records)
    return windows.rowcount or 0, tokens.rowcount or 0  # type: ignore[attr-defined]


async def _prune_idempotency(session: AsyncSession, *, now: datetime) -> int:
    """Tenant by tenant: row-level security shows a transaction one tenant's records.
    (Last in `prune`: it leaves the transaction narrowed to the last business.)"""
    pruned = 0
    for business_id in await business_ids(session):
        await set_tenant(session, business_id)
        pruned += await idempotency.prune_expired(session, business_id, now=now)
    return pruned
