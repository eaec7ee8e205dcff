"""The calendars statement sends busy time as epoch microseconds (`scheduling.busy`),
counted in SQL from the search's origin in floating point: exact, and the same as the
engine's count in Python, to the microsecond, far beyond any window's reach, where a
count from the epoch itself in floating point would be off."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime, literal, select
from sqlalchemy.ext.asyncio import AsyncEngine

from booklnk.booking.calendars import sql_micros
from booklnk.scheduling.busy import micros

US = timedelta(microseconds=1)
EDGES = [
    timedelta(0),
    US,
    timedelta(minutes=35) - US,
    -timedelta(hours=2, microseconds=999_999),
    timedelta(days=62, hours=23, minutes=59, seconds=59, microseconds=999_999),
    -timedelta(days=400, microseconds=7),
    timedelta(days=365 * 60, microseconds=999_999),  # decades away: still exact
    -timedelta(days=365 * 60, microseconds=1),
]


def _offsets(seed: int) -> list[timedelta]:
    draw = random.Random(seed)
    return EDGES + [draw.randrange(-90 * 86_400 * 10**6, 90 * 86_400 * 10**6) * US for _ in range(200)]


ORIGINS = [
    datetime(2026, 12, 7, 9, 0, 0, 123_457, tzinfo=UTC),
    datetime(2190, 3, 1, 23, 59, 59, 999_999, tzinfo=UTC),
]


@pytest.mark.parametrize("origin", ORIGINS, ids=lambda origin: str(origin.year))
async def test_the_database_counts_the_microseconds_the_engine_counts(
    owner_engine: AsyncEngine, origin: datetime
) -> None:
    zone = timezone(timedelta(hours=2))  # (the database compares instants, whatever the offset)
    offsets = _offsets(origin.year)
    instants = [(origin + offset).astimezone(zone) for offset in offsets]
    query = select(*(sql_micros(literal(instant, DateTime(timezone=True))) for instant in instants))
    params = {"span_start": origin, "span_start_micros": micros(origin)}
    async with owner_engine.connect() as conn:
        counted = (await conn.execute(query, params)).one()
    assert list(counted) == [micros(instant) for instant in instants]
    assert list(counted) == [micros(origin) + offset // US for offset in offsets]
